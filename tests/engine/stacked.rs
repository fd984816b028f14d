//! Networks trained together in one stack (`train::run_epochs_together`) train as each would
//! alone: 2 and 3 classes and regression, every activation (a padded unit of sigmoid or softplus
//! is not zero unless masked), two layers of different widths, a residual block, Adam's moments
//! carried in, records in the middle of a span; and a Figure 3 sweep run in step gives each job
//! the rows it gets alone. (That a stack's step launches the same kernels for 2 and 10 networks
//! is counted in `wgpu.rs`.)

use firefly_playground::config::RunConfig;
use firefly_playground::data::{Dataset, DatasetKind};
use firefly_playground::experiment::{Figure3Config, Row, run_job, run_jobs_together};
use firefly_playground::grow::Method;
use firefly_playground::model::{Activation, Block, BlockKind, Matrix, Mlp};
use firefly_playground::optim::OptimizerKind;
use firefly_playground::train::{History, Session, TrainPath, run_epochs_together};

use burn::tensor::Device;
use firefly_playground::playground::{Msg, Playground};

use crate::playground::train_to;
use crate::support::{block, device};

/// f32 sums in another order (a batched matrix product) over a few dozen steps: 1e-5 is a few
/// hundred roundings at these sizes.
const TOLERANCE: f32 = 1e-5;

fn session(kind: DatasetKind, activation: Activation, hidden: &[usize], seed: u64) -> Session {
    session_on(device(), kind, activation, hidden, seed)
}

/// A full-batch tensor-path session on `device` of 80 points that records every 5 epochs.
pub(crate) fn session_on(
    device: Device,
    kind: DatasetKind,
    activation: Activation,
    hidden: &[usize],
    seed: u64,
) -> Session {
    let mut config = RunConfig {
        seed,
        ..RunConfig::default()
    };
    config.data.kind = kind;
    config.data.n_points = 80;
    config.data.seed = seed;
    config.model.hidden = hidden.to_vec();
    config.model.activation = activation;
    config.train.batch_size = 0;
    config.train.eval_every = 5;
    config.train.learning_rate = 0.05;
    config.growth.method = Method::None;
    let data = Dataset::generate(&config.data).expect("data");
    Session::with_path(config, data, device, TrainPath::Tensor).expect("session")
}

/// `mlp` with a residual block of `units` units appended (small random-looking weights).
fn with_residual(mut mlp: Mlp, units: usize) -> Mlp {
    let d = mlp.blocks.last().map_or(mlp.n_inputs, |b| b.d_out());
    let value = |i: usize| ((i * 7919 % 13) as f32 - 6.0) * 0.05;
    let unit_ids = (0..units).map(|_| mlp.fresh_unit_id()).collect();
    mlp.blocks.push(Block {
        kind: BlockKind::Residual,
        fan_in: Matrix::from_vec(d, units, (0..d * units).map(value).collect()),
        bias: (0..units).map(|i| value(i + 3)).collect(),
        fan_out: Some(Matrix::from_vec(
            units,
            d,
            (0..units * d).map(|i| value(i + 5)).collect(),
        )),
        unit_ids,
    });
    mlp
}

/// Trains twin sets of sessions `warm` epochs each alone, then `n` epochs: one set each alone,
/// the other together. Returns whether each trained in a stack, and the largest difference of
/// any weight or recorded loss.
pub(crate) fn together_against_alone(
    make: &dyn Fn() -> Vec<Session>,
    warm: usize,
    n: usize,
) -> (Vec<bool>, f32) {
    let (mut alone, mut together) = (make(), make());
    for session in alone.iter_mut().chain(together.iter_mut()) {
        block(session.run_epochs(warm)).expect("warm-up");
    }
    for session in &mut alone {
        block(session.run_epochs(n)).expect("alone");
    }
    let stacked = block(run_epochs_together(&mut together, n)).expect("together");
    let mut largest = 0.0f32;
    for (a, t) in alone.iter().zip(&together) {
        assert_eq!((a.epoch(), a.steps()), (t.epoch(), t.steps()));
        let (x, y) = (
            block(a.network()).expect("net"),
            block(t.network()).expect("net"),
        );
        largest = largest.max(difference((&x, a.history()), (&y, t.history())));
    }
    (stacked, largest)
}

/// The largest difference of any weight or recorded loss of two networks and their histories,
/// which must have the same architecture, records and growths.
fn difference((x, h): (&Mlp, &History), (y, k): (&Mlp, &History)) -> f32 {
    assert_eq!(x.architecture(), y.architecture());
    let mut largest = 0.0f32;
    for (p, q) in x.param_matrices().iter().zip(y.param_matrices()) {
        largest = largest.max(crate::support::max_abs_diff(&p.data, &q.data));
    }
    assert_eq!(h.epochs.len(), k.epochs.len());
    for (r, s) in h.epochs.iter().zip(&k.epochs) {
        assert_eq!((r.epoch, r.units), (s.epoch, s.units));
        largest = largest
            .max((r.train_loss - s.train_loss).abs())
            .max((r.test_loss - s.test_loss).abs());
    }
    let growths = |h: &History| -> Vec<String> {
        (h.growths.iter())
            .map(|g| format!("{} {}", g.epoch, g.architecture_after))
            .collect()
    };
    assert_eq!(growths(h), growths(k), "the same growths");
    largest
}

/// The page's Figure 3 seeds on the tensor path (a WebGPU page's) train their epochs in one
/// stack that lasts from frame to frame, growing alone in between, and each seed's run is the
/// run it would be alone: the same growths, records and weights within the tolerance, the
/// weights read from the stack by an export. A live setting gives each seed its network back
/// before it changes them all.
#[test]
fn the_pages_seeds_train_in_one_stack_as_each_would_alone() {
    let largest = page_seeds_against_alone(device(), 50);
    eprintln!("in the stack and alone the seeds differ by {largest:.2e}");
    // The page on the fused CPU step trains each seed alone.
    let mut page = Playground::from_hash_on(PAGE, device(), TrainPath::Fused).expect("page");
    train_to(&mut page, 20);
    assert!(!page.seeds_in_stack());
    assert!(page.main_seeds().all(|s| s.epochs_stacked() == 0));
}

/// Settings of a page whose seeds stack and grow: full batches, 3 seeds, growth every 12 epochs.
const PAGE: &str = "dataset=circle&points=120&layers=2&batch=0&seeds=3&method=firefly\
                    &baseline=random-new&grow-every=12&max-units=5";

/// Runs [`PAGE`] on `device`'s tensor path to about `epochs` epochs and checks each seed's run
/// against the same run alone (see the test above); returns the largest difference.
pub(crate) fn page_seeds_against_alone(device: Device, epochs: usize) -> f32 {
    let mut page = Playground::from_hash_on(PAGE, device.clone(), TrainPath::Tensor).expect("page");
    train_to(&mut page, epochs);
    assert!(
        page.seeds_in_stack(),
        "the seeds train in a stack between frames"
    );
    let export = block(page.export()).expect("export");
    let sessions: Vec<&Session> = page.main_seeds().chain(page.baseline_seeds()).collect();
    let seeds: Vec<_> = (export.runs.iter())
        .filter(|r| r.index > 0)
        .map(|run| {
            let session = sessions.iter().find(|s| {
                s.config().seed == run.seed && s.config().growth.method.name() == run.method
            });
            (run, *session.expect("the run's session"))
        })
        .collect();
    assert_eq!(seeds.len(), 4);
    let mut largest = 0.0f32;
    for (run, seed) in seeds {
        let growths = seed.history().growths.len();
        assert!(
            growths >= 3,
            "{growths} growths: the seeds grew between stacks"
        );
        // Every epoch but those of a frame a growth phase ends in trains in the stack.
        let stacked = seed.epochs_stacked();
        assert!(
            stacked + 8 >= seed.epoch(),
            "{stacked} of {} epochs in the stack",
            seed.epoch()
        );
        let mut alone = Session::with_path(
            seed.config().clone(),
            seed.data().clone(),
            device.clone(),
            TrainPath::Tensor,
        )
        .expect("session");
        block(alone.run_epochs(seed.epoch())).expect("alone");
        assert_eq!((alone.steps(), alone.epochs_stacked()), (seed.steps(), 0));
        let network = block(alone.network()).expect("net");
        let d = difference((&network, alone.history()), (&run.network, &run.history));
        assert!(
            d < TOLERANCE,
            "{} seed {}: in the stack and alone differ by {d}",
            run.method,
            run.seed
        );
        largest = largest.max(d);
    }
    page.update(Msg::Set("lr".into(), "0.3".into()));
    assert!(
        !page.seeds_in_stack(),
        "a live setting takes the seeds out of the stack"
    );
    assert!(page.main_seeds().all(|s| s.learning_rate() == 0.3));
    let epoch = page.main().epoch();
    train_to(&mut page, epoch + 5);
    assert!(page.seeds_in_stack(), "and they stack again");
    largest
}

#[test]
fn networks_in_a_stack_train_as_each_alone_for_every_task_and_activation() {
    for kind in [
        DatasetKind::Circle,
        DatasetKind::Spiral3,
        DatasetKind::RegPlane,
    ] {
        for activation in Activation::ALL {
            let make = || {
                [(&[3, 2][..], 1), (&[2, 4][..], 2), (&[4, 1][..], 3)]
                    .iter()
                    .map(|&(hidden, seed)| session(kind, activation, hidden, seed))
                    .collect()
            };
            // Records at epochs 5, 10 and 15: two of them inside the span of 12.
            let (stacked, d) = together_against_alone(&make, 3, 12);
            let what = format!("{kind:?} {}", activation.name());
            eprintln!("{what}: together and alone differ by {d:.2e}");
            assert_eq!(
                stacked, [true; 3],
                "{what}: every network trained in the stack"
            );
            assert!(d < TOLERANCE, "{what}: together and alone differ by {d}");
        }
    }
}

#[test]
fn residual_blocks_moments_and_optimisers_stack_and_the_rest_train_alone() {
    for optimizer in [
        OptimizerKind::Adam,
        OptimizerKind::Sgd,
        OptimizerKind::Nesterov,
    ] {
        let make = || {
            let mut sessions: Vec<Session> = [(3, 2, 4), (5, 1, 7), (2, 3, 9)]
                .iter()
                .map(|&(width, residual, seed)| {
                    let mut s = session(DatasetKind::Spiral3, Activation::Tanh, &[width], seed);
                    let mut config = s.config().clone();
                    config.train.optimizer = optimizer;
                    let data = s.data().clone();
                    s = Session::with_path(config, data, device(), TrainPath::Tensor).expect("s");
                    let grown = with_residual(s.shape().clone(), residual);
                    s.restore(grown, History::default()).expect("restore");
                    s
                })
                .collect();
            // Alone for want of a partner: a fused session, and one of another task.
            let fused = session(DatasetKind::Circle, Activation::Tanh, &[3], 11);
            let (config, data) = (fused.config().clone(), fused.data().clone());
            sessions.push(Session::with_path(config, data, device(), TrainPath::Fused).expect("s"));
            sessions.push(session(DatasetKind::Circle, Activation::Tanh, &[3], 12));
            sessions
        };
        let (stacked, d) = together_against_alone(&make, 4, 11);
        assert_eq!(stacked, [true, true, true, false, false], "{optimizer:?}");
        assert!(
            d < TOLERANCE,
            "{optimizer:?}: together and alone differ by {d}"
        );
    }
}

/// `firefly figure3 --backend wgpu` runs its jobs in step; each job's rows are those it gets
/// run alone, growth and all.
#[test]
fn a_figure3_sweep_in_step_gives_each_job_its_own_rows() {
    let config = Figure3Config {
        datasets: vec![DatasetKind::Circle, DatasetKind::Xor],
        methods: vec![Method::Firefly, Method::RandomNew],
        seeds: 3,
        max_grown: 2,
        steps_per_phase: 25,
        path: TrainPath::Tensor,
        ..Figure3Config::default()
    };
    let jobs = config.jobs();
    let mut phases = Vec::new();
    // Growing on three threads (every job grows on the CPU here) ...
    let together = block(run_jobs_together(&jobs, &config, &device(), 3, &mut |g| {
        phases.push(g)
    }))
    .expect("run");
    assert_eq!(phases, [0, 1, 2]);
    // ... gives every job the rows it gets on one, to the bit (timings aside).
    let one_thread = block(run_jobs_together(&jobs, &config, &device(), 1, &mut |_| {}));
    let numbers = |rows: &[Vec<Row>]| -> Vec<(usize, usize, u32, u32, u32)> {
        (rows.iter().flatten())
            .map(|r| {
                let bits = (r.train_loss.to_bits(), r.test_loss.to_bits());
                (
                    r.grown,
                    r.units,
                    bits.0,
                    bits.1,
                    r.loss_after_growth.to_bits(),
                )
            })
            .collect()
    };
    assert_eq!(numbers(&together), numbers(&one_thread.expect("run")));
    let mut largest = 0.0f32;
    for (job, rows) in jobs.iter().zip(&together) {
        let alone = block(run_job(job, &config, &device())).expect("job");
        assert_eq!(alone.len(), rows.len());
        for (a, t) in alone.iter().zip(rows) {
            assert_eq!(
                (a.grown, a.units, a.params),
                (t.grown, t.units, t.params),
                "{job:?}"
            );
            largest = largest
                .max((a.train_loss - t.train_loss).abs())
                .max((a.loss_after_growth - t.loss_after_growth).abs());
        }
    }
    assert!(largest < 1e-4, "a job's losses differ by {largest} in step");
}
