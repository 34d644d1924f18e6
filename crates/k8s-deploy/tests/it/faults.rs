//! Faults: 500s on reads and watches, watch streams that drop, and 410 Gone on resume.

use kube_sim::{Fault, Resource, Verb};

use crate::common::{GOOD, NEXT, UNPULLABLE, action, assert_exit, image, sim};

#[test]
fn server_errors_and_dropped_watches_are_survived() {
    let sim = sim();
    sim.add_fault(
        Fault::status(500)
            .on(Verb::Get)
            .resource(Resource::Deployments)
            .times(1),
    );
    sim.add_fault(Fault::status(503).on(Verb::List).times(2));
    sim.add_fault(Fault::watch_close_after(1).times(6));
    let run = action(&sim, NEXT).run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed", "{}", run.render());
    assert_eq!(image(&sim), NEXT);
}

#[test]
fn a_rollback_survives_dropped_watches_and_410_gone() {
    let sim = sim();
    sim.add_fault(Fault::watch_close_after(2).times(4));
    sim.add_fault(Fault::watch_gone().times(2));
    let run = action(&sim, UNPULLABLE).run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "rolled-back", "{}", run.render());
    assert_eq!(image(&sim), GOOD);
}
