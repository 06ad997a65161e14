//! The owned copy of a logged field that slog-async sends to its thread
//! ([`Sendable`]): a number, a boolean, a text or null as it is, anything
//! else as its JSON text. Serialized again on the writer thread, each is
//! written byte for byte as serde_json writes the value itself (an `f32`
//! stays an `f32`, a unit variant its name).
//!
//! Measured with callgrind (`examples/profile_prediction.rs slog-async`):
//! turning every field into its JSON text on the caller's thread cost
//! 2,900 instructions per prediction of the benchmark's workload; a scalar
//! copied as it is costs a fraction of that.

use crate::record::not_scalar::{NotScalar, not_scalar_compounds};
use serde::ser::{Impossible, Serialize, Serializer};
use std::fmt;

/// A field's value, owned.
#[derive(Clone, Debug)]
pub(crate) enum Sendable {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F32(f32),
    F64(f64),
    Text(String),
    /// Anything else, as serde_json wrote it.
    Json(Box<serde_json::value::RawValue>),
}

impl Sendable {
    /// `value` as a scalar, or `None` if it is not one (an object, an
    /// array, a 128-bit integer, or a value whose serialization fails).
    pub(crate) fn scalar<T: Serialize + ?Sized>(value: &T) -> Option<Sendable> {
        value.serialize(ScalarSerializer).ok()
    }
}

impl Serialize for Sendable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Sendable::Null => serializer.serialize_unit(),
            Sendable::Bool(flag) => serializer.serialize_bool(*flag),
            Sendable::I64(number) => serializer.serialize_i64(*number),
            Sendable::U64(number) => serializer.serialize_u64(*number),
            Sendable::F32(number) => serializer.serialize_f32(*number),
            Sendable::F64(number) => serializer.serialize_f64(*number),
            Sendable::Text(text) => serializer.serialize_str(text),
            Sendable::Json(json) => json.serialize(serializer),
        }
    }
}

/// Takes a scalar; refuses anything else.
struct ScalarSerializer;

impl Serializer for ScalarSerializer {
    type Ok = Sendable;
    type Error = NotScalar;
    not_scalar_compounds!(types Sendable);

    fn serialize_bool(self, v: bool) -> Result<Sendable, NotScalar> {
        Ok(Sendable::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Sendable, NotScalar> {
        Ok(Sendable::I64(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Sendable, NotScalar> {
        Ok(Sendable::I64(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Sendable, NotScalar> {
        Ok(Sendable::I64(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Sendable, NotScalar> {
        Ok(Sendable::I64(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Sendable, NotScalar> {
        Ok(Sendable::U64(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Sendable, NotScalar> {
        Ok(Sendable::U64(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Sendable, NotScalar> {
        Ok(Sendable::U64(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Sendable, NotScalar> {
        Ok(Sendable::U64(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Sendable, NotScalar> {
        Ok(Sendable::F32(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Sendable, NotScalar> {
        Ok(Sendable::F64(v))
    }
    fn serialize_char(self, v: char) -> Result<Sendable, NotScalar> {
        Ok(Sendable::Text(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Sendable, NotScalar> {
        Ok(Sendable::Text(v.to_owned()))
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<Sendable, NotScalar> {
        Err(NotScalar)
    }
    fn serialize_none(self) -> Result<Sendable, NotScalar> {
        Ok(Sendable::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Sendable, NotScalar> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Sendable, NotScalar> {
        Ok(Sendable::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Sendable, NotScalar> {
        Ok(Sendable::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Sendable, NotScalar> {
        Ok(Sendable::Text(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Sendable, NotScalar> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Sendable, NotScalar> {
        Err(NotScalar)
    }
    not_scalar_compounds!();
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<Sendable, NotScalar> {
        Ok(Sendable::Text(value.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `value` written through its `Sendable` as serde_json writes it.
    fn same_text<T: Serialize>(value: T) {
        let sendable = Sendable::scalar(&value).expect("a scalar");
        assert_eq!(
            serde_json::to_string(&sendable).expect("JSON"),
            serde_json::to_string(&value).expect("JSON")
        );
    }

    #[derive(serde::Serialize)]
    enum Risk {
        Risky,
    }

    #[derive(serde::Serialize)]
    struct Id(u32);

    #[test]
    fn scalars_are_written_as_serde_json_writes_the_value() {
        same_text(true);
        same_text(-7_i8);
        same_text(i64::MIN);
        same_text(u64::MAX);
        same_text(0.1_f32);
        same_text(4000.0_f64);
        same_text(f64::NAN);
        same_text('é');
        same_text("a \"quoted\"\n text");
        same_text(Option::<u8>::None);
        same_text(Some(3_u16));
        same_text(());
        same_text(Risk::Risky);
        same_text(Id(42));
    }

    #[test]
    fn what_is_not_a_scalar_is_refused() {
        assert!(Sendable::scalar(&[1, 2]).is_none());
        assert!(Sendable::scalar(&u128::MAX).is_none());
        assert!(Sendable::scalar(&(1, 2)).is_none());
        assert!(Sendable::scalar(&std::collections::BTreeMap::from([(1, 2)])).is_none());
    }
}
