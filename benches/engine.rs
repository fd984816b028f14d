//! Criterion benches on the CPU: one training step and one epoch at TensorFlow Playground's
//! default setup and at its largest network, on the fused host path and on burn's tensor path
//! (Flex); one map evaluation (the 100×100 decision map and the unit thumbnails the page draws
//! every frame); each part of a Firefly growth phase (propose, Step 1, Step 2 with the
//! selection, surgery); and one growth phase per method (the Figure 4 analogue: Firefly against
//! exact splitting and random growth).
//!
//! Run with `cargo bench --bench engine`; ratios are only meaningful between benches of one run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use burn::tensor::Device;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use firefly_playground::config::RunConfig;
use firefly_playground::data::{Dataset, DatasetKind};
use firefly_playground::fused::{self, FusedOptimizer, Workspace};
use firefly_playground::grow::firefly::FireflyRun;
use firefly_playground::grow::{Method, apply_plan};
use firefly_playground::model::{DeviceMlp, Mlp, Targets, inputs_tensor};
use firefly_playground::optim::OptimizerKind;
use firefly_playground::train::{Session, TrainPath};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

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

fn session(config: RunConfig, path: TrainPath) -> Session {
    let data = Dataset::generate(&config.data).expect("valid data");
    Session::with_path(config, data, Device::flex(), path).expect("valid config")
}

fn training(c: &mut Criterion) {
    for (name, hidden) in [("2-4-2-2", vec![4, 2]), ("2-8x6-2", vec![8; 6])] {
        let mut group = c.benchmark_group(format!("train one epoch (circle, {name}, batch 10)"));
        for path in [TrainPath::Fused, TrainPath::Tensor] {
            let mut config = playground_default(Method::None);
            config.model.hidden = hidden.clone();
            let mut s = session(config, path);
            group.bench_function(format!("{path:?}"), |b| {
                b.iter(|| pollster::block_on(s.run_epochs(1)).expect("epoch"))
            });
        }
        group.finish();
    }
    // One fused mini-batch step alone (forward, backward, Adam).
    let config = playground_default(Method::None);
    let data = Dataset::generate(&config.data).expect("valid data");
    let mut net = Mlp::new(&config.model, data.task, 1).expect("valid network");
    let x: Vec<f32> = Dataset::inputs(&data.train[..10]);
    let y: Vec<f32> = Dataset::labels(&data.train[..10]);
    let mut opt = FusedOptimizer::new(OptimizerKind::Adam);
    let mut ws = Workspace::default();
    c.bench_function("fused step (2-4-2-2, batch 10)", |b| {
        b.iter(|| fused::train_step(&mut net, &mut opt, 0.03, &x, &y, &mut ws))
    });
}

fn map_evaluation(c: &mut Criterion) {
    let mut group = c.benchmark_group("map evaluation (100x100 map + 10x10 thumbnails)");
    for (name, hidden) in [("2-4-2-2", vec![4, 2]), ("2-8x6-2", vec![8; 6])] {
        for path in [TrainPath::Fused, TrainPath::Tensor] {
            let mut config = playground_default(Method::None);
            config.model.hidden = hidden.clone();
            let s = session(config, path);
            group.bench_function(format!("{name} {path:?}"), |b| {
                b.iter(|| pollster::block_on(s.snapshot(100, 10)).expect("snapshot"))
            });
        }
    }
    group.finish();
}

/// Each part of one Firefly growth phase on a trained 2-8-8-2 network.
fn growth_parts(c: &mut Criterion) {
    let mut config = playground_default(Method::Firefly);
    config.model.hidden = vec![8, 8];
    let mut trained = session(config.clone(), TrainPath::Fused);
    pollster::block_on(trained.run_epochs(2)).expect("warm-up training");
    let mlp = pollster::block_on(trained.network()).expect("weights");
    let device = Device::flex();
    let data = trained.data().clone();
    let inputs = inputs_tensor(&Dataset::inputs(&data.train), 2, &device);
    let targets = Targets::new(&Dataset::labels(&data.train), data.task, &device);
    let kinds = Method::Firefly.firefly_kinds().expect("firefly grows");
    let growth = config.growth.clone();
    let propose = || {
        let base = DeviceMlp::upload(&mlp, &device).params;
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        FireflyRun::new(
            &mlp,
            base,
            kinds,
            &growth,
            inputs.clone(),
            targets.clone(),
            &mut rng,
        )
    };
    let mut group = c.benchmark_group("firefly growth parts (2-8-8-2, circle)");
    group.sample_size(10);
    group.bench_function("propose", |b| b.iter(propose));
    group.bench_function("step 1 (all steps)", |b| {
        b.iter_batched(
            propose,
            |mut run| run.step1(usize::MAX),
            BatchSize::PerIteration,
        )
    });
    let after_step1 = || {
        let mut run = propose();
        run.step1(usize::MAX);
        run
    };
    group.bench_function("step 2 and selection", |b| {
        b.iter_batched(
            after_step1,
            |mut run| {
                run.step2(usize::MAX);
                pollster::block_on(run.finish(1)).expect("plan")
            },
            BatchSize::PerIteration,
        )
    });
    let mut run = after_step1();
    run.step2(usize::MAX);
    let (plan, _) = pollster::block_on(run.finish(1)).expect("plan");
    group.bench_function("surgery", |b| {
        b.iter(|| apply_plan(&mlp, &plan).expect("surgery"))
    });
    group.finish();
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

criterion_group!(
    benches,
    training,
    map_evaluation,
    growth_parts,
    growth_phase
);
criterion_main!(benches);
