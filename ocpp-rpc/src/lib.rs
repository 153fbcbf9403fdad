//! OCPP-J RPC core (under construction).
#![no_std]
