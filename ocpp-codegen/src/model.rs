//! The model: named types and messages, built from the schemas.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::schema::{MessageKind, MessageSchema};
use crate::{Error, Version, bail, v16_names};

/// A field's type, with the schema's constraints that the type itself does not carry.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// `string` with `maxLength` -> `BoundedString<N>`, without -> `String`.
    String {
        /// `maxLength`.
        max_length: Option<u64>,
        /// `format: uri`.
        uri: bool,
    },
    /// `string` with `format: date-time`.
    DateTime,
    /// `integer`.
    Integer {
        /// `minimum`.
        minimum: Option<i64>,
        /// `maximum`.
        maximum: Option<i64>,
        /// From a JSON Schema draft-04 file (OCPP 1.6 without the security extension), where an
        /// integer is a number written without a fraction or exponent (`1.0` is not one).
        draft4: bool,
    },
    /// `number`.
    Number {
        /// `minimum`.
        minimum: Option<i64>,
        /// `maximum`.
        maximum: Option<i64>,
        /// `multipleOf`, as a fraction `(numerator, denominator)`.
        multiple_of: Option<(u64, u64)>,
    },
    /// `boolean`.
    Bool,
    /// No `type`: any JSON value (DataTransfer's `data` in 2.x).
    Any,
    /// `array`.
    Array {
        /// The element type.
        items: Box<Ty>,
        /// `minItems`.
        min_items: Option<u64>,
        /// `maxItems`.
        max_items: Option<u64>,
    },
    /// A named struct or enum of the model.
    Named(String),
}

/// One property of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The name on the wire.
    pub wire_name: String,
    /// Its type.
    pub ty: Ty,
    /// In `required`.
    pub required: bool,
    /// The schema's description.
    pub doc: Option<String>,
}

/// A named type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeDef {
    /// An object.
    Struct {
        /// Properties in schema order.
        fields: Vec<Field>,
        /// `additionalProperties` is not `false` (only `CustomDataType`): unknown properties
        /// are kept, not rejected.
        open: bool,
    },
    /// A string `enum`: the wire values in schema order.
    Enum(Vec<String>),
}

/// A named type and its documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    /// The definition.
    pub def: TypeDef,
    /// The schema's description.
    pub doc: Option<String>,
    /// Where it was first defined, for error messages.
    pub origin: String,
}

/// Which side sends an action's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// The charging station (charge point in 1.6).
    ChargingStation,
    /// The CSMS (central system in 1.6).
    Csms,
    /// Either side.
    Both,
}

/// One action and the names of its message types.
#[derive(Debug, Clone)]
pub struct Action {
    /// The action name on the wire.
    pub name: String,
    /// The request (or SEND) type.
    pub request: String,
    /// The response type; `None` for SEND messages.
    pub response: Option<String>,
    /// Who sends the request.
    pub sender: Sender,
}

/// Everything the emitter needs for one version.
#[derive(Debug)]
pub struct Model {
    /// The version.
    pub version: Version,
    /// Every named type, messages included, by Rust name.
    pub types: BTreeMap<String, Named>,
    /// Actions, sorted by name.
    pub actions: Vec<Action>,
}

impl Model {
    /// Builds the model from one version's schemas.
    pub fn build(version: Version, schemas: &[MessageSchema]) -> Result<Model, Error> {
        let mut builder = Builder {
            version,
            types: BTreeMap::new(),
        };
        for message in schemas {
            builder.add_message(message)?;
        }
        let actions = actions(version, schemas)?;
        Ok(Model {
            version,
            types: builder.types,
            actions,
        })
    }

    /// Whether values of `ty` contain a floating-point number (so the type cannot be `Eq`).
    pub fn has_float(&self, ty: &Ty) -> bool {
        self.has_float_inner(ty, &mut Vec::new())
    }

    fn has_float_inner<'a>(&'a self, ty: &'a Ty, seen: &mut Vec<&'a str>) -> bool {
        match ty {
            Ty::Number { .. } => true,
            Ty::Array { items, .. } => self.has_float_inner(items, seen),
            Ty::Named(name) => {
                if seen.contains(&name.as_str()) {
                    return false;
                }
                seen.push(name);
                match self.types.get(name).map(|n| &n.def) {
                    Some(TypeDef::Struct { fields, .. }) => {
                        fields.iter().any(|f| self.has_float_inner(&f.ty, seen))
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    }
}

/// Pairs requests with responses and looks up who sends each.
fn actions(version: Version, schemas: &[MessageSchema]) -> Result<Vec<Action>, Error> {
    let mut actions: BTreeMap<&str, Action> = BTreeMap::new();
    for message in schemas.iter().filter(|m| m.kind != MessageKind::Response) {
        let response = match message.kind {
            MessageKind::Send => None,
            _ => {
                let Some(response) = schemas
                    .iter()
                    .find(|m| m.kind == MessageKind::Response && m.action == message.action)
                else {
                    bail!(
                        "{}: no response schema for action {}",
                        message.file,
                        message.action
                    );
                };
                Some(response.type_name())
            }
        };
        let sender = sender(version, &message.action);
        let action = Action {
            name: message.action.clone(),
            request: message.type_name(),
            response,
            sender,
        };
        actions.insert(&message.action, action);
    }
    for message in schemas.iter().filter(|m| m.kind == MessageKind::Response) {
        if !actions.contains_key(message.action.as_str()) {
            bail!("{}: a response without a request schema", message.file);
        }
    }
    Ok(actions.into_values().collect())
}

/// Who sends `action`'s request, from the tables in [`crate::senders`].
fn sender(version: Version, action: &str) -> Sender {
    use crate::senders::*;
    let (station, both) = match version {
        Version::V16 => (V16_CHARGING_STATION, V16_BOTH),
        Version::V201 => (V201_CHARGING_STATION, V201_BOTH),
        Version::V21 => (V21_CHARGING_STATION, V21_BOTH),
    };
    if both.contains(&action) {
        Sender::Both
    } else if station.contains(&action) {
        Sender::ChargingStation
    } else {
        Sender::Csms
    }
}

/// A definition with its documentation removed, to compare shapes.
fn without_docs(def: &TypeDef) -> TypeDef {
    match def {
        TypeDef::Struct { fields, open } => TypeDef::Struct {
            fields: fields
                .iter()
                .map(|f| Field {
                    doc: None,
                    ..f.clone()
                })
                .collect(),
            open: *open,
        },
        TypeDef::Enum(values) => TypeDef::Enum(values.clone()),
    }
}

struct Builder {
    version: Version,
    types: BTreeMap<String, Named>,
}

/// Where in which file a sub-schema is, for naming (1.6) and error messages.
struct Site<'a> {
    message: &'a MessageSchema,
    path: String,
}

impl Site<'_> {
    fn at(&self) -> String {
        format!(
            "{} at {}",
            self.message.file,
            if self.path.is_empty() {
                "/"
            } else {
                &self.path
            }
        )
    }
}

impl Builder {
    fn add_message(&mut self, message: &MessageSchema) -> Result<(), Error> {
        let schema = message
            .schema
            .as_object()
            .ok_or_else(|| Error(format!("{}: the schema is not a JSON object", message.file)))?;
        // 2.x: every definition of every file, merged by name.
        if let Some(defs) = schema.get("definitions") {
            let defs = defs.as_object().ok_or_else(|| {
                Error(format!("{}: `definitions` is not an object", message.file))
            })?;
            for (name, def) in defs {
                let site = Site {
                    message,
                    path: format!("/definitions/{name}"),
                };
                self.add_named(name, def, &site)?;
            }
        }
        let site = Site {
            message,
            path: String::new(),
        };
        let def = self.def_of(schema, &site)?;
        let doc = describe(schema);
        self.insert(
            message.type_name(),
            Named {
                def,
                doc,
                origin: site.at(),
            },
        )
    }

    /// Adds a definition that has a name of its own.
    fn add_named(&mut self, name: &str, schema: &Value, site: &Site) -> Result<(), Error> {
        let object = schema
            .as_object()
            .ok_or_else(|| Error(format!("{}: not a schema object", site.at())))?;
        let def = self.def_of(object, site)?;
        self.insert(
            name.to_owned(),
            Named {
                def,
                doc: describe(object),
                origin: site.at(),
            },
        )
    }

    /// Records a named type. One that exists already must have the same shape, or generation
    /// fails; the published schemas differ in documentation only (some copies of a definition
    /// lack a description), so the first description found for the type and each field is kept.
    fn insert(&mut self, name: String, named: Named) -> Result<(), Error> {
        let Some(existing) = self.types.get_mut(&name) else {
            self.types.insert(name, named);
            return Ok(());
        };
        if without_docs(&existing.def) != without_docs(&named.def) {
            bail!(
                "two different definitions named {name}: {} and {}",
                existing.origin,
                named.origin
            );
        }
        if existing.doc.is_none() {
            existing.doc = named.doc;
        }
        if let (TypeDef::Struct { fields: kept, .. }, TypeDef::Struct { fields: new, .. }) =
            (&mut existing.def, named.def)
        {
            for (kept, new) in kept.iter_mut().zip(new) {
                if kept.doc.is_none() {
                    kept.doc = new.doc;
                }
            }
        }
        Ok(())
    }

    /// The definition of a schema that becomes a named type: an object or a string enum.
    fn def_of(&mut self, schema: &Map<String, Value>, site: &Site) -> Result<TypeDef, Error> {
        check_keywords(schema, site)?;
        if let Some(values) = schema.get("enum") {
            let values = values
                .as_array()
                .ok_or_else(|| Error(format!("{}: bad enum", site.at())))?;
            let mut out = Vec::with_capacity(values.len());
            for value in values {
                match value.as_str() {
                    Some(s) => out.push(s.to_owned()),
                    None => bail!("{}: only string enums are supported", site.at()),
                }
            }
            if schema.get("type").and_then(Value::as_str) != Some("string") {
                bail!("{}: an enum must have type string", site.at());
            }
            return Ok(TypeDef::Enum(out));
        }
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            bail!("{}: a named type must be an object or an enum", site.at());
        }
        let open = schema.get("additionalProperties") != Some(&Value::Bool(false));
        let required: Vec<&str> = match schema.get("required") {
            None => Vec::new(),
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
            Some(_) => bail!("{}: `required` is not an array", site.at()),
        };
        let empty = Map::new();
        let properties = match schema.get("properties") {
            None => &empty,
            Some(Value::Object(p)) => p,
            Some(_) => bail!("{}: `properties` is not an object", site.at()),
        };
        for name in &required {
            if !properties.contains_key(*name) {
                bail!("{}: required property {name} is not defined", site.at());
            }
        }
        let mut fields = Vec::with_capacity(properties.len());
        for (wire_name, property) in properties {
            let property_site = Site {
                message: site.message,
                path: format!("{}/{wire_name}", site.path),
            };
            let property = property
                .as_object()
                .ok_or_else(|| Error(format!("{}: not a schema object", property_site.at())))?;
            let ty = self.ty_of(property, &property_site)?;
            fields.push(Field {
                wire_name: wire_name.clone(),
                ty,
                required: required.contains(&wire_name.as_str()),
                doc: describe(property),
            });
        }
        Ok(TypeDef::Struct { fields, open })
    }

    /// The type of a property or array element.
    fn ty_of(&mut self, schema: &Map<String, Value>, site: &Site) -> Result<Ty, Error> {
        check_keywords(schema, site)?;
        if let Some(reference) = schema.get("$ref") {
            let name = reference
                .as_str()
                .and_then(|r| r.strip_prefix("#/definitions/"))
                .ok_or_else(|| Error(format!("{}: unsupported $ref {reference}", site.at())))?;
            return Ok(Ty::Named(name.to_owned()));
        }
        let ty = schema.get("type").map(|t| t.as_str().ok_or(t));
        let ty = match ty {
            None => return Ok(Ty::Any),
            Some(Ok(ty)) => ty,
            Some(Err(t)) => bail!("{}: unsupported type {t}", site.at()),
        };
        if ty == "object" || schema.contains_key("enum") {
            // An inline type: 1.6 only; it gets the specification's name from the table.
            let Some(name) =
                v16_names::name_of(self.version, &site.message.type_name(), &site.path)
            else {
                bail!(
                    "{}: an inline {} needs a name in ocpp-codegen's table (src/v16_names.rs)",
                    site.at(),
                    if ty == "object" { "object" } else { "enum" }
                );
            };
            let def = self.def_of(schema, site)?;
            let doc = describe(schema);
            self.insert(
                name.to_owned(),
                Named {
                    def,
                    doc,
                    origin: site.at(),
                },
            )?;
            return Ok(Ty::Named(name.to_owned()));
        }
        Ok(match ty {
            "string" => match schema.get("format").and_then(Value::as_str) {
                Some("date-time") => Ty::DateTime,
                Some("uri") | None => Ty::String {
                    max_length: uint(schema, "maxLength", site)?,
                    uri: schema.contains_key("format"),
                },
                Some(other) => bail!("{}: unsupported format {other}", site.at()),
            },
            "integer" => Ty::Integer {
                minimum: bound(schema, "minimum", site)?,
                maximum: bound(schema, "maximum", site)?,
                draft4: site
                    .message
                    .schema
                    .get("$schema")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.contains("draft-04")),
            },
            "number" => Ty::Number {
                minimum: bound(schema, "minimum", site)?,
                maximum: bound(schema, "maximum", site)?,
                multiple_of: multiple_of(schema, site)?,
            },
            "boolean" => Ty::Bool,
            "array" => {
                let items = schema
                    .get("items")
                    .and_then(Value::as_object)
                    .ok_or_else(|| Error(format!("{}: an array needs `items`", site.at())))?;
                let items_site = Site {
                    message: site.message,
                    path: format!("{}/[]", site.path),
                };
                Ty::Array {
                    items: Box::new(self.ty_of(items, &items_site)?),
                    min_items: uint(schema, "minItems", site)?,
                    max_items: uint(schema, "maxItems", site)?,
                }
            }
            other => bail!("{}: unsupported type {other}", site.at()),
        })
    }
}

/// The schema keywords this generator understands; anything else could change what is valid.
const KNOWN_KEYWORDS: &[&str] = &[
    // Structure and validation.
    "type",
    "properties",
    "required",
    "additionalProperties",
    "enum",
    "$ref",
    "definitions",
    "items",
    "maxLength",
    "minimum",
    "maximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "format",
    // `additionalItems` has no effect when `items` is a single schema, as it is in OCPP.
    "additionalItems",
    // Annotations.
    "$schema",
    "$id",
    "id",
    "title",
    "description",
    "comment",
    "$comment",
    "javaType",
    "default",
];

fn check_keywords(schema: &Map<String, Value>, site: &Site) -> Result<(), Error> {
    for key in schema.keys() {
        if !KNOWN_KEYWORDS.contains(&key.as_str()) {
            bail!("{}: unsupported schema keyword {key:?}", site.at());
        }
    }
    if schema.contains_key("additionalItems") && !schema.get("items").is_some_and(Value::is_object)
    {
        bail!(
            "{}: `additionalItems` with tuple `items` is not supported",
            site.at()
        );
    }
    Ok(())
}

fn describe(schema: &Map<String, Value>) -> Option<String> {
    schema
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn uint(schema: &Map<String, Value>, key: &str, site: &Site) -> Result<Option<u64>, Error> {
    match schema.get(key) {
        None => Ok(None),
        Some(v) => match v.as_u64().or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        }) {
            Some(n) => Ok(Some(n)),
            None => bail!(
                "{}: {key} must be a non-negative integer, not {v}",
                site.at()
            ),
        },
    }
}

fn bound(schema: &Map<String, Value>, key: &str, site: &Site) -> Result<Option<i64>, Error> {
    match schema.get(key) {
        None => Ok(None),
        Some(v) => match v.as_i64().or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }) {
            Some(n) => Ok(Some(n)),
            None => bail!(
                "{}: {key} {v} is not a whole number (not supported)",
                site.at()
            ),
        },
    }
}

/// `multipleOf` as a fraction with a power-of-ten denominator (`0.1` -> 1/10).
fn multiple_of(schema: &Map<String, Value>, site: &Site) -> Result<Option<(u64, u64)>, Error> {
    let Some(v) = schema.get("multipleOf") else {
        return Ok(None);
    };
    let text = v.to_string();
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let digits = format!("{whole}{frac}");
    let numerator: u64 = digits
        .parse()
        .map_err(|_| Error(format!("{}: unsupported multipleOf {v}", site.at())))?;
    let denominator = 10u64.pow(frac.len() as u32);
    if numerator == 0 {
        bail!("{}: multipleOf must be positive", site.at());
    }
    Ok(Some((numerator, denominator)))
}
