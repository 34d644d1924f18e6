//! Integration tests for kube-sim: raw API semantics, controllers, the stock kubectl against the
//! standalone binary, kube-rs clients and watchers, faults, and recorded-object fidelity.

#![expect(
    clippy::too_many_lines,
    reason = "tests read as stories, one timeline per test"
)]

mod api;
mod binary;
mod common;
mod controllers;
mod fidelity;
mod kube_client;
mod kubectl;
mod metrics;
mod python_client;
mod services;
