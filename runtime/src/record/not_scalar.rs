//! [`NotScalar`]: the error of a serializer that takes only scalars (a
//! number, a boolean, a text, null), and [`not_scalar_compounds`], the
//! compound methods such a serializer refuses. Shared by the profile's
//! value extraction and slog-async's sendable copy of a field.

use std::fmt;

/// A value that is not a scalar.
#[derive(Debug)]
pub(crate) struct NotScalar;

impl fmt::Display for NotScalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a scalar")
    }
}

impl std::error::Error for NotScalar {}

impl serde::ser::Error for NotScalar {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        NotScalar
    }
}

/// The compound parts of a scalar-only `Serializer` (a sequence, a map, a
/// struct): `types OK` declares their types, `()` the methods, each
/// refusing with [`NotScalar`]. The serializer's module imports
/// `serde::ser::Impossible`.
macro_rules! not_scalar_compounds {
    (types $ok:ty) => {
        type SerializeSeq = Impossible<$ok, NotScalar>;
        type SerializeTuple = Impossible<$ok, NotScalar>;
        type SerializeTupleStruct = Impossible<$ok, NotScalar>;
        type SerializeTupleVariant = Impossible<$ok, NotScalar>;
        type SerializeMap = Impossible<$ok, NotScalar>;
        type SerializeStruct = Impossible<$ok, NotScalar>;
        type SerializeStructVariant = Impossible<$ok, NotScalar>;
    };
    () => {
        fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, NotScalar> {
            Err(NotScalar)
        }
        fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, NotScalar> {
            Err(NotScalar)
        }
        fn serialize_tuple_struct(
            self,
            _name: &'static str,
            _len: usize,
        ) -> Result<Self::SerializeTupleStruct, NotScalar> {
            Err(NotScalar)
        }
        fn serialize_tuple_variant(
            self,
            _name: &'static str,
            _index: u32,
            _variant: &'static str,
            _len: usize,
        ) -> Result<Self::SerializeTupleVariant, NotScalar> {
            Err(NotScalar)
        }
        fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, NotScalar> {
            Err(NotScalar)
        }
        fn serialize_struct(
            self,
            _name: &'static str,
            _len: usize,
        ) -> Result<Self::SerializeStruct, NotScalar> {
            Err(NotScalar)
        }
        fn serialize_struct_variant(
            self,
            _name: &'static str,
            _index: u32,
            _variant: &'static str,
            _len: usize,
        ) -> Result<Self::SerializeStructVariant, NotScalar> {
            Err(NotScalar)
        }
    };
}

pub(crate) use not_scalar_compounds;
