//! Writing the model as data: the `schemas` module of each version, one `static`
//! `ocpp_types::Schema` per named type, read by `ocpp_types::schema::decode` (the
//! table-driven decoder a firmware links instead of one typed decoder per message).

use std::fmt::Write;

use crate::emit::{fraction_expr, option_expr};
use crate::model::{Model, Ty, TypeDef};

/// The `schemas` module.
pub fn emit_schemas(out: &mut String, model: &Model) {
    let version = model.version;
    let _ = writeln!(
        out,
        "\n/// Every schema of OCPP {version} as data, named as the schema definitions (and messages) \
         are:\n/// the input of [`crate::schema::decode`]."
    );
    // Tables, one entry per line: rustfmt would fold them by width instead.
    let _ = writeln!(
        out,
        "#[rustfmt::skip]\n#[allow(non_upper_case_globals)]\npub mod schemas {{"
    );
    let _ = writeln!(out, "    use crate::schema::{{Object, Schema}};");
    for (name, named) in &model.types {
        let _ = writeln!(out, "\n    /// The schema of [`super::{name}`].");
        match &named.def {
            TypeDef::Struct { fields, open } => {
                // Bit i for field i; `Object::new` refuses more than 64 (at compile time).
                let required = fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.required)
                    .fold(0u64, |bits, (i, _)| bits | 1 << i);
                let _ = writeln!(
                    out,
                    "    pub static {name}: Schema = Schema::Object(Object::new("
                );
                let _ = writeln!(out, "        {name:?},");
                let _ = writeln!(out, "        &[");
                for field in fields {
                    let _ = writeln!(out, "            {:?},", field.wire_name);
                }
                let _ = writeln!(out, "        ],");
                let _ = writeln!(out, "        &[");
                for field in fields {
                    let _ = writeln!(out, "            &{},", schema_expr(&field.ty));
                }
                let _ = writeln!(out, "        ],");
                let _ = writeln!(out, "        {required:#b},");
                let _ = writeln!(out, "        {open},");
                let _ = writeln!(out, "    ));");
            }
            TypeDef::Enum(values) => {
                let _ = writeln!(out, "    pub static {name}: Schema = Schema::Enum {{");
                let _ = writeln!(out, "        name: {name:?},");
                let _ = writeln!(out, "        values: &[");
                for value in values {
                    let _ = writeln!(out, "            {value:?},");
                }
                let _ = writeln!(out, "        ],");
                let _ = writeln!(out, "    }};");
            }
        }
    }
    let _ = writeln!(out, "}}");
}

/// A `Schema` expression for `ty` (a named type is its static).
fn schema_expr(ty: &Ty) -> String {
    match ty {
        Ty::String { max_length, uri } => format!(
            "Schema::String {{ max_length: {}, uri: {uri} }}",
            option_expr(*max_length)
        ),
        Ty::DateTime => "Schema::DateTime".to_owned(),
        Ty::Integer {
            minimum,
            maximum,
            draft4,
        } => format!(
            "Schema::Integer {{ minimum: {}, maximum: {}, draft4: {draft4} }}",
            option_expr(*minimum),
            option_expr(*maximum)
        ),
        Ty::Number {
            minimum,
            maximum,
            multiple_of,
        } => format!(
            "Schema::Number {{ minimum: {}, maximum: {}, multiple_of: {} }}",
            option_expr(*minimum),
            option_expr(*maximum),
            fraction_expr(*multiple_of)
        ),
        Ty::Bool => "Schema::Bool".to_owned(),
        Ty::Any => "Schema::Any".to_owned(),
        Ty::Array {
            items,
            min_items,
            max_items,
        } => format!(
            "Schema::Array {{ items: &{}, min_items: {}, max_items: {} }}",
            schema_expr(items),
            min_items.unwrap_or(0),
            option_expr(*max_items)
        ),
        Ty::Named(name) => name.clone(),
    }
}
