//! Criterion benches on burn's Flex CPU backend: one training epoch at TensorFlow Playground's
//! default setup, and one growth phase per method on the same network (the Figure 4 analogue:
//! Firefly against exact splitting and random growth).
//!
//! Run with `cargo bench --bench engine`; ratios are only meaningful between benches of one run.

use burn::tensor::Device;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use firefly_playground::config::RunConfig;
use firefly_playground::data::DatasetKind;
use firefly_playground::grow::Method;
use firefly_playground::train::Session;

/// Circle, 500 points (250 train), hidden layers [4, 2], tanh, batch 10: one epoch is 25 steps.
fn playground_default(method: Method) -> RunConfig {
    let mut config = RunConfig::default();
    config.data.kind = DatasetKind::Circle;
    config.model.hidden = vec![4, 2];
    config.train.batch_size = 10;
    config.train.epochs_per_growth = usize::MAX;
    config.growth.method = method;
    config
}

fn training_epoch(c: &mut Criterion) {
    let mut session =
        Session::new(playground_default(Method::None), Device::flex()).expect("valid config");
    c.bench_function("train one epoch (circle, 2-4-2-2, batch 10)", |b| {
        b.iter(|| pollster::block_on(session.run_epochs(1)).expect("epoch"))
    });
}

fn growth_phase(c: &mut Criterion) {
    let mut group = c.benchmark_group("one growth phase (2-8-8-2, circle)");
    group.sample_size(10);
    for method in [
        Method::Firefly,
        Method::FireflyLayers,
        Method::ExactSplit,
        Method::RandomSplit,
    ] {
        // Each iteration grows a fresh copy of the same trained network (setup is not timed).
        let trained = || {
            let mut config = playground_default(method);
            config.model.hidden = vec![8, 8];
            let mut session = Session::new(config, Device::flex()).expect("valid config");
            pollster::block_on(session.run_epochs(2)).expect("warm-up training");
            session
        };
        group.bench_function(method.name(), |b| {
            b.iter_batched(
                trained,
                |mut session| pollster::block_on(session.grow_now()).expect("growth"),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, training_epoch, growth_phase);
criterion_main!(benches);
