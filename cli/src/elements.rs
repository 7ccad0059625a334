//! From a type code read in a header to typed code: [`with_element!`] runs a generic body
//! once per element type, with the type bound to a name, so each command is written once.

use shmarray::TypeCode;

/// What the commands need of an element type beyond [`shmarray::Element`]: parsing,
/// printing, JSON, and a float for rates. Every one of the twelve element types has it.
pub trait Value:
    shmarray::Element + std::fmt::Display + std::str::FromStr + Into<serde_json::Value>
{
    /// The value as a float, for rates of change (large integers round).
    fn as_f64(self) -> f64;
}

macro_rules! value {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn as_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
value!(i8, u8, i16, u16, i32, u32, isize, usize, i64, u64, f32, f64);

/// Runs `$body` with `$t` standing for the element type `$code` names, as an expression of
/// type `Result<_, Failure>`; a type code this tool does not know gives a failure
/// concerning `$region`.
macro_rules! with_element {
    ($code:expr, $region:expr, |$t:ident| $body:expr) => {{
        use shmarray::TypeCode as C;
        match $code {
            C::I8 => {
                type $t = i8;
                $body
            }
            C::U8 => {
                type $t = u8;
                $body
            }
            C::I16 => {
                type $t = i16;
                $body
            }
            C::U16 => {
                type $t = u16;
                $body
            }
            C::I32 => {
                type $t = i32;
                $body
            }
            C::U32 => {
                type $t = u32;
                $body
            }
            C::Isize => {
                type $t = isize;
                $body
            }
            C::Usize => {
                type $t = usize;
                $body
            }
            C::I64 => {
                type $t = i64;
                $body
            }
            C::U64 => {
                type $t = u64;
                $body
            }
            C::F32 => {
                type $t = f32;
                $body
            }
            C::F64 => {
                type $t = f64;
                $body
            }
            other => Err($crate::Failure::about(
                $region,
                format!("element type {other} is not known to this tool"),
            )),
        }
    }};
}
pub(crate) use with_element;

/// Every type code with its Rust name.
const NAMES: [(TypeCode, &str); 12] = [
    (TypeCode::I8, "i8"),
    (TypeCode::U8, "u8"),
    (TypeCode::I16, "i16"),
    (TypeCode::U16, "u16"),
    (TypeCode::I32, "i32"),
    (TypeCode::U32, "u32"),
    (TypeCode::Isize, "isize"),
    (TypeCode::Usize, "usize"),
    (TypeCode::I64, "i64"),
    (TypeCode::U64, "u64"),
    (TypeCode::F32, "f32"),
    (TypeCode::F64, "f64"),
];

/// The Rust name of an element type (`u64`), or its type code letter for one this tool
/// does not know.
pub fn type_name(code: TypeCode) -> String {
    NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| (*name).to_owned())
        .unwrap_or_else(|| code.as_char().to_string())
}

/// `--type`: a Rust name (`u64`) or a Python type code letter (`Q`).
pub fn parse_type(s: &str) -> Result<TypeCode, String> {
    if let Some((code, _)) = NAMES.iter().find(|(_, name)| *name == s) {
        return Ok(*code);
    }
    let mut chars = s.chars();
    match (chars.next().and_then(TypeCode::from_char), chars.next()) {
        (Some(code), None) => Ok(code),
        _ => Err(format!(
            "unknown element type {s:?}; one of {}",
            NAMES.map(|(_, n)| n).join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_by_name_and_letter() {
        for (code, name) in NAMES {
            assert_eq!(parse_type(name), Ok(code));
            assert_eq!(parse_type(&code.as_char().to_string()), Ok(code));
            assert_eq!(type_name(code), name);
        }
        assert!(parse_type("u128").is_err());
        assert!(parse_type("").is_err());
        assert!(parse_type("QQ").is_err());
    }
}
