//! Categorical features: enums whose serde values are the data set's own
//! category names, with the list of their variants for one-hot encoding.

/// A categorical feature with a fixed, ordered set of categories.
pub trait Categorical: Copy + 'static {
    /// Every category's name in the data set (and in the JSON API), in the
    /// order of the one-hot columns.
    const NAMES: &'static [&'static str];
    /// The category's position in [`Categorical::NAMES`].
    fn index(self) -> usize;
}

/// Defines a categorical enum: serde reads and writes each variant as the
/// data set's category name, and the OpenAPI schema lists the names.
macro_rules! categorical {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident => $text:tt, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $text)] $variant, )+
        }

        impl $crate::categorical::Categorical for $name {
            const NAMES: &'static [&'static str] = &[$($text),+];

            fn index(self) -> usize {
                self as usize
            }
        }
    };
}

pub(crate) use categorical;
