//! [`PredictionId`]: the id a prediction's records carry, which the caller
//! learns (`Logged::predict_with_id`) and an outcome record refers to.

use std::fmt;
use std::str::FromStr;

/// A prediction's id: a UUID v4, written lower-case and hyphenated. It is
/// `Copy` and kept on the stack.
///
/// ```
/// use logged_model::PredictionId;
///
/// let id: PredictionId = "CC82106F-6111-4F3E-8E36-AF6849D4A8E0".parse()?;
/// assert_eq!(id.as_str(), "cc82106f-6111-4f3e-8e36-af6849d4a8e0");
/// assert!("not-an-id".parse::<PredictionId>().is_err());
/// # Ok::<(), logged_model::InvalidPredictionId>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PredictionId([u8; uuid::fmt::Hyphenated::LENGTH]);

impl PredictionId {
    /// A new, random id.
    pub(crate) fn new() -> Self {
        Self::of(uuid::Uuid::new_v4())
    }

    fn of(uuid: uuid::Uuid) -> Self {
        let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
        uuid.hyphenated().encode_lower(&mut text);
        PredictionId(text)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits and hyphens were written into it.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The id's text as bytes: what a record copies.
    pub(crate) fn text_bytes(&self) -> &[u8; uuid::fmt::Hyphenated::LENGTH] {
        &self.0
    }
}

/// Text that is not a prediction id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a prediction id: expected a UUID such as cc82106f-6111-4f3e-8e36-af6849d4a8e0"
)]
pub struct InvalidPredictionId(pub String);

impl FromStr for PredictionId {
    type Err = InvalidPredictionId;

    /// Any UUID in its hyphenated form (36 characters), in either case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() != uuid::fmt::Hyphenated::LENGTH {
            return Err(InvalidPredictionId(text.to_owned()));
        }
        uuid::Uuid::try_parse(text)
            .map(Self::of)
            .map_err(|_| InvalidPredictionId(text.to_owned()))
    }
}

impl fmt::Display for PredictionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for PredictionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PredictionId({})", self.as_str())
    }
}

impl serde::Serialize for PredictionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for PredictionId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
