//! What a profile keeps of one field's value, and how a caller's thread
//! writes it down: a number, a short text, nothing (`null`), or only that
//! it was there (a redacted or hashed field, an object, an array). Values
//! are appended to a byte buffer, field index first, so that the caller
//! copies a few bytes and the profiler thread does the sketching.

use crate::record::not_scalar::{NotScalar, not_scalar_compounds};
use serde::ser::{Impossible, Serialize, Serializer};

/// A text value is profiled by its first bytes: enough for any category.
pub(crate) const MAX_TEXT: usize = 255;

const NULL: u8 = 0;
const NUMBER: u8 = 1;
const TEXT: u8 = 2;
const PRESENT: u8 = 3;

/// One field's value, as a profile sees it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ProfileValue<'a> {
    /// `None`, `()`, a unit struct: counted as a null.
    Null,
    /// Any integer or finite float.
    Number(f64),
    /// A string, a char, a bool (`true`, `false`), a unit enum variant.
    Text(&'a str),
    /// Counted, not sketched: a sensitive field, an object, an array, a
    /// float that is not finite.
    Present,
}

/// Appends `field`'s value to `out`.
pub(crate) fn append(out: &mut Vec<u8>, field: u8, value: &ProfileValue<'_>) {
    out.push(field);
    match value {
        ProfileValue::Null => out.push(NULL),
        ProfileValue::Number(number) => {
            out.push(NUMBER);
            out.extend_from_slice(&number.to_le_bytes());
        }
        ProfileValue::Text(text) => {
            let text = truncate(text);
            out.push(TEXT);
            // At most MAX_TEXT bytes, which fits in a byte.
            out.push(u8::try_from(text.len()).unwrap_or(u8::MAX));
            out.extend_from_slice(text.as_bytes());
        }
        ProfileValue::Present => out.push(PRESENT),
    }
}

/// Appends `value`, serialized, as `field`'s.
pub(crate) fn append_serialized<T: Serialize + ?Sized>(out: &mut Vec<u8>, field: u8, value: &T) {
    let start = out.len();
    match value.serialize(Extract { out, field }) {
        Ok(()) => {}
        Err(_) => {
            out.truncate(start);
            append(out, field, &ProfileValue::Present);
        }
    }
}

/// Appends `field` as present, or as null when `value` is absent (`None`,
/// `()`), without keeping anything of it: for a sensitive field.
pub(crate) fn append_presence<T: Serialize + ?Sized>(out: &mut Vec<u8>, field: u8, value: &T) {
    let probe = if value.serialize(NullProbe).unwrap_or(false) {
        ProfileValue::Null
    } else {
        ProfileValue::Present
    };
    append(out, field, &probe);
}

/// The longest prefix of `text` of at most [`MAX_TEXT`] bytes that ends on
/// a character boundary.
fn truncate(text: &str) -> &str {
    if text.len() <= MAX_TEXT {
        return text;
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Reads back the values [`append`] wrote, in order: `(field, value)`.
/// Stops at the first malformed entry (none is ever written).
pub(crate) fn decode(bytes: &[u8]) -> impl Iterator<Item = (u8, ProfileValue<'_>)> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        let (&field, after) = rest.split_first()?;
        let (&tag, after) = after.split_first()?;
        let (value, after) = match tag {
            NULL => (ProfileValue::Null, after),
            NUMBER => {
                let (number, after) = after.split_first_chunk::<8>()?;
                (ProfileValue::Number(f64::from_le_bytes(*number)), after)
            }
            TEXT => {
                let (&len, after) = after.split_first()?;
                let (text, after) = after.split_at_checked(usize::from(len))?;
                (ProfileValue::Text(std::str::from_utf8(text).ok()?), after)
            }
            PRESENT => (ProfileValue::Present, after),
            _ => return None,
        };
        rest = after;
        Some((field, value))
    })
}

/// A serde serializer that writes a scalar's [`ProfileValue`].
struct Extract<'o> {
    out: &'o mut Vec<u8>,
    field: u8,
}

impl Extract<'_> {
    fn put(self, value: ProfileValue<'_>) -> Result<(), NotScalar> {
        append(self.out, self.field, &value);
        Ok(())
    }

    fn number(self, number: f64) -> Result<(), NotScalar> {
        if number.is_finite() {
            self.put(ProfileValue::Number(number))
        } else {
            self.put(ProfileValue::Present)
        }
    }
}

// The integers above 2^53 lose their last digits as f64: a profile's
// quantiles do not need them.
#[allow(clippy::cast_precision_loss)]
impl Serializer for Extract<'_> {
    type Ok = ();
    type Error = NotScalar;
    not_scalar_compounds!(types());

    fn serialize_bool(self, v: bool) -> Result<(), NotScalar> {
        self.put(ProfileValue::Text(if v { "true" } else { "false" }))
    }
    fn serialize_i8(self, v: i8) -> Result<(), NotScalar> {
        self.number(f64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), NotScalar> {
        self.number(f64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), NotScalar> {
        self.number(f64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), NotScalar> {
        self.number(v as f64)
    }
    fn serialize_i128(self, v: i128) -> Result<(), NotScalar> {
        self.number(v as f64)
    }
    fn serialize_u8(self, v: u8) -> Result<(), NotScalar> {
        self.number(f64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), NotScalar> {
        self.number(f64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), NotScalar> {
        self.number(f64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), NotScalar> {
        self.number(v as f64)
    }
    fn serialize_u128(self, v: u128) -> Result<(), NotScalar> {
        self.number(v as f64)
    }
    fn serialize_f32(self, v: f32) -> Result<(), NotScalar> {
        self.number(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), NotScalar> {
        self.number(v)
    }
    fn serialize_char(self, v: char) -> Result<(), NotScalar> {
        let mut buffer = [0u8; 4];
        self.put(ProfileValue::Text(v.encode_utf8(&mut buffer)))
    }
    fn serialize_str(self, v: &str) -> Result<(), NotScalar> {
        self.put(ProfileValue::Text(v))
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), NotScalar> {
        Err(NotScalar)
    }
    fn serialize_none(self) -> Result<(), NotScalar> {
        self.put(ProfileValue::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), NotScalar> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), NotScalar> {
        self.put(ProfileValue::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), NotScalar> {
        self.put(ProfileValue::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), NotScalar> {
        self.put(ProfileValue::Text(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), NotScalar> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), NotScalar> {
        Err(NotScalar)
    }
    not_scalar_compounds!();
}

/// Whether a value is absent: `None`, `()`, a unit struct; anything else
/// is present (and not looked into).
struct NullProbe;

impl Serializer for NullProbe {
    type Ok = bool;
    type Error = NotScalar;
    not_scalar_compounds!(types bool);

    fn serialize_bool(self, _v: bool) -> Result<bool, NotScalar> {
        Ok(false)
    }
    fn serialize_i8(self, _v: i8) -> Result<bool, NotScalar> {
        Ok(false)
    }
    fn serialize_i16(self, _v: i16) -> Result<bool, NotScalar> {
        Ok(false)
    }
    fn serialize_i32(self, _v: i32) -> Result<bool, NotScalar> {
        Ok(false)
    }
    fn serialize_u8(self, _v: u8) -> Result<bool, NotScalar> {
        Ok(false)
    }
    fn serialize_u16(self, _v: u16) -> Result<bool, NotScalar> {
        Ok(false)
    }
    fn serialize_u32(self, _v: u32) -> Result<bool, NotScalar> {
        Ok(false)
    }
    fn serialize_f32(self, _v: f32) -> Result<bool, NotScalar> {
        Ok(false)
    }
    fn serialize_char(self, _v: char) -> Result<bool, NotScalar> {
        Ok(false)
    }
    fn serialize_i64(self, _v: i64) -> Result<bool, NotScalar> {
        Ok(false)
    }
    fn serialize_u64(self, _v: u64) -> Result<bool, NotScalar> {
        Ok(false)
    }
    fn serialize_f64(self, _v: f64) -> Result<bool, NotScalar> {
        Ok(false)
    }
    fn serialize_str(self, _v: &str) -> Result<bool, NotScalar> {
        Ok(false)
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<bool, NotScalar> {
        Ok(false)
    }
    fn serialize_none(self) -> Result<bool, NotScalar> {
        Ok(true)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<bool, NotScalar> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<bool, NotScalar> {
        Ok(true)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<bool, NotScalar> {
        Ok(true)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
    ) -> Result<bool, NotScalar> {
        Ok(false)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<bool, NotScalar> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<bool, NotScalar> {
        Ok(false)
    }
    not_scalar_compounds!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one<T: Serialize + ?Sized>(value: &T) -> Vec<(u8, ProfileValue<'static>)> {
        let mut out = Vec::new();
        append_serialized(&mut out, 3, value);
        let owned: Vec<(u8, ProfileValue<'static>)> = decode(&out)
            .map(|(field, value)| {
                let value = match value {
                    ProfileValue::Text(text) => {
                        ProfileValue::Text(Box::leak(text.to_owned().into_boxed_str()))
                    }
                    ProfileValue::Null => ProfileValue::Null,
                    ProfileValue::Number(n) => ProfileValue::Number(n),
                    ProfileValue::Present => ProfileValue::Present,
                };
                (field, value)
            })
            .collect();
        owned
    }

    #[derive(serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Purpose {
        NewCar,
    }

    #[test]
    fn scalars_are_numbers_or_texts_and_the_rest_is_present() {
        assert_eq!(one(&7u8), [(3, ProfileValue::Number(7.0))]);
        assert_eq!(one(&-2.5f64), [(3, ProfileValue::Number(-2.5))]);
        assert_eq!(one(&Some(1.5f32)), [(3, ProfileValue::Number(1.5))]);
        assert_eq!(one(&None::<f64>), [(3, ProfileValue::Null)]);
        assert_eq!(one("A11"), [(3, ProfileValue::Text("A11"))]);
        assert_eq!(one(&true), [(3, ProfileValue::Text("true"))]);
        assert_eq!(one(&'x'), [(3, ProfileValue::Text("x"))]);
        assert_eq!(one(&Purpose::NewCar), [(3, ProfileValue::Text("new_car"))]);
        assert_eq!(one(&f64::NAN), [(3, ProfileValue::Present)]);
        assert_eq!(one(&vec![1, 2]), [(3, ProfileValue::Present)]);
        assert_eq!(
            one(&serde_json::json!({"a": 1})),
            [(3, ProfileValue::Present)]
        );
    }

    #[test]
    fn a_long_text_is_cut_on_a_character_boundary() {
        let long = "é".repeat(200);
        let values = one(long.as_str());
        let ProfileValue::Text(text) = &values[0].1 else {
            panic!("a text: {values:?}");
        };
        assert!(text.len() <= MAX_TEXT && text.len() >= MAX_TEXT - 1);
        assert!(long.starts_with(text));
    }

    #[test]
    fn values_decode_in_the_order_they_were_appended() {
        let mut out = Vec::new();
        append(&mut out, 0, &ProfileValue::Number(1.0));
        append(&mut out, 1, &ProfileValue::Text("b"));
        append(&mut out, 2, &ProfileValue::Null);
        append(&mut out, 3, &ProfileValue::Present);
        let decoded: Vec<_> = decode(&out).collect();
        assert_eq!(
            decoded,
            [
                (0, ProfileValue::Number(1.0)),
                (1, ProfileValue::Text("b")),
                (2, ProfileValue::Null),
                (3, ProfileValue::Present),
            ]
        );
        // A cut buffer stops cleanly.
        assert_eq!(decode(&out[..5]).count(), 0);
    }
}
