//! Learning an agent's vocabulary from the wire: message types per direction with their fields
//! (inference), which type follows which, request-to-reply latency (correlation), JSON Schemas
//! per type, and the agent's own AsyncAPI document with validation against it. Pure library
//! code: frames in, descriptions out; no UI types.

pub mod asyncapi;
pub mod correlate;
pub mod infer;
pub mod schema;
pub mod validate;

pub use correlate::{Correlator, Latency, Replies};
pub use infer::{BinaryShape, Field, JsonType, MessageType, Transition, TypeKey, Vocabulary};
pub use schema::json_schema;
