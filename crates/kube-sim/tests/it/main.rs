//! Integration tests for kube-sim: raw API semantics, controllers, the stock kubectl against the
//! standalone binary, kube-rs clients and watchers, faults, and recorded-object fidelity.

mod api;
mod common;
mod controllers;
mod fidelity;
mod kube_client;
mod kubectl;
