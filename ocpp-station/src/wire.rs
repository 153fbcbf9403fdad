//! The fields the station reads from the CSMS's requests and answers, and the shapes of its
//! own answers, for every version at once (the names agree across versions; where a type
//! differs, as 1.6's integer `transactionId` and 2.x's string, both are kept).
//!
//! The session has already checked every payload against its schema; `decoders` moves the
//! fields below out of it, so the station's logic is written once for every version.

use alloc::string::String;
use alloc::vec::Vec;

use ocpp_types::DateTime;
use serde::Serialize;

/// An id that is an integer on 1.6 and a string on 2.x.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Id {
    #[cfg_attr(not(feature = "v16"), allow(dead_code))]
    Number(i64),
    #[cfg_attr(not(any(feature = "v201", feature = "v21")), allow(dead_code))]
    Text(String),
}

/// 1.6 GetConfiguration's `key` is a list; ChangeConfiguration's a string.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "v16"), allow(dead_code))]
pub(crate) enum Keys {
    One(String),
    Many(Vec<String>),
}

/// A 2.x `idToken`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TokenIn {
    pub id_token: String,
    pub kind: String,
}

/// A 2.x `evse`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EvseRef {
    pub id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<i64>,
}

/// A 2.x component, echoed in results as it came.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Component {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evse: Option<EvseRef>,
}

/// A 2.x variable, echoed in results as it came.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Variable {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// One item of GetVariables / SetVariables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct VariableItem {
    pub attribute_type: Option<String>,
    pub attribute_value: Option<String>,
    pub component: Component,
    pub variable: Variable,
}

/// Every field the station reads from a CSMS request, of whichever action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Request {
    /// The action's name.
    pub action: &'static str,
    pub id_tag: Option<String>,
    pub id_token: Option<TokenIn>,
    pub connector_id: Option<i64>,
    pub evse_id: Option<i64>,
    pub evse: Option<EvseRef>,
    pub remote_start_id: Option<i64>,
    pub transaction_id: Option<Id>,
    /// Reset's and 1.6 ChangeAvailability's `type`.
    pub kind: Option<String>,
    pub operational_status: Option<String>,
    pub requested_message: Option<String>,
    pub key: Option<Keys>,
    pub value: Option<String>,
    pub get_variable_data: Vec<VariableItem>,
    pub set_variable_data: Vec<VariableItem>,
    pub request_id: Option<i64>,
    pub report_base: Option<String>,
}

/// Every field the station reads from an answer to its calls.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Answer {
    pub status: Option<String>,
    pub interval: Option<i64>,
    pub current_time: Option<DateTime>,
    /// 1.6 `idTagInfo.status`, 2.x `idTokenInfo.status`.
    pub token_status: Option<String>,
    pub transaction_id: Option<Id>,
}

/// `{"status": ...}`.
#[derive(Serialize)]
pub(crate) struct Status<'a> {
    pub status: &'a str,
}

#[derive(Serialize)]
pub(crate) struct ConfigurationKey<'a> {
    pub key: &'a str,
    pub readonly: bool,
    pub value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetConfiguration<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub configuration_key: Vec<ConfigurationKey<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_key: Vec<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VariableResult<'a> {
    pub attribute_status: &'static str,
    pub attribute_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute_value: Option<String>,
    pub component: &'a Component,
    pub variable: &'a Variable,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetVariables<'a> {
    pub get_variable_result: Vec<VariableResult<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SetVariables<'a> {
    pub set_variable_result: Vec<VariableResult<'a>>,
}

#[derive(Serialize)]
pub(crate) struct Named<'a> {
    pub name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReportVariable<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<&'a str>,
}

#[derive(Serialize)]
pub(crate) struct Attribute<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub value: String,
    pub mutability: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Characteristics<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<&'a str>,
    pub data_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values_list: Option<&'a str>,
    pub supports_monitoring: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReportDatum<'a> {
    pub component: Named<'a>,
    pub variable: ReportVariable<'a>,
    pub variable_attribute: [Attribute<'a>; 1],
    pub variable_characteristics: Characteristics<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NotifyReport<'a> {
    pub request_id: i64,
    pub generated_at: ocpp_types::DateTime,
    pub seq_no: u32,
    pub tbc: bool,
    pub report_data: Vec<ReportDatum<'a>>,
}
