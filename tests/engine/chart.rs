//! Chart thinning keeps what the eye sees: every column's extremes and both ends.

use firefly_playground::chart::thin;

#[test]
fn a_long_curve_keeps_four_points_per_pixel_and_every_extreme() {
    // 100,000 epochs over 300 pixels: a decaying loss with noise and one spike.
    let n = 100_000;
    let points: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let x = 300.0 * i as f64 / n as f64;
            let noise = ((i * 7919) % 101) as f64 / 1000.0;
            let spike = if i == 54_321 { 5.0 } else { 0.0 };
            (x, 1.0 / (1.0 + x) + noise + spike)
        })
        .collect();
    let thinned = thin(&points);
    assert!(thinned.len() <= 4 * 300, "{} points", thinned.len());
    assert_eq!(thinned.first(), points.first());
    assert_eq!(thinned.last(), points.last());
    let max = |p: &[(f64, f64)]| p.iter().map(|q| q.1).fold(f64::MIN, f64::max);
    let min = |p: &[(f64, f64)]| p.iter().map(|q| q.1).fold(f64::MAX, f64::min);
    assert_eq!(max(&thinned), max(&points), "the spike is kept");
    assert_eq!(min(&thinned), min(&points));
    // Per column, the extremes survive and x stays in order.
    assert!(thinned.windows(2).all(|w| w[0].0 <= w[1].0));
    for column in [0.0, 150.0, 299.0] {
        let inside = |p: &&(f64, f64)| p.0.floor() == column;
        let orig: Vec<_> = points.iter().filter(inside).copied().collect();
        let kept: Vec<_> = thinned.iter().filter(inside).copied().collect();
        assert_eq!(max(&kept), max(&orig));
        assert_eq!(min(&kept), min(&orig));
    }
}

#[test]
fn a_short_curve_is_untouched() {
    let points = vec![(0.0, 1.0), (0.5, 2.0), (10.0, 0.5), (10.2, 0.7)];
    assert_eq!(thin(&points), points);
    assert!(thin(&[]).is_empty());
}

mod numbers {
    use firefly_playground::chart::{loss, signed, significant};

    #[test]
    fn losses_keep_three_significant_digits() {
        let check = |v: f32, want: &str| assert_eq!(loss(v), want, "{v}");
        check(std::f32::consts::LN_2, "0.693");
        check(0.012_345, "0.0123");
        check(0.001_234_5, "0.00123");
        check(1.3e-8, "1.3e-8");
        check(9.87e-4, "9.87e-4");
        check(2.0e-9, "2e-9");
        check(123.45, "123");
        check(0.0, "0");
        check(f32::NAN, "NaN");
        check(f32::INFINITY, "∞");
    }

    #[test]
    fn changes_carry_their_sign() {
        assert_eq!(signed(0.012_34), "+0.0123");
        assert_eq!(signed(-4.2e-7), "-4.2e-7");
        assert_eq!(signed(-0.5), "-0.500");
        assert_eq!(significant(1234.6, 2), "1235");
        assert_eq!(significant(250_000.0, 2), "2.5e5");
    }
}

mod ticks {
    use firefly_playground::chart::{LossAxis, Step, covering_ticks, inner_ticks, spaced};

    #[test]
    fn a_loss_axis_spans_whole_decades_and_shows_the_ratio_of_small_losses() {
        let labels =
            |a: &LossAxis| -> Vec<String> { a.ticks().into_iter().map(|t| t.label).collect() };
        // The opening minute: 0.69 down to 0.0033 spans 0.001 to 1, a gridline a decade.
        let axis = LossAxis::covering([0.69, 0.0057, 0.0033]);
        assert_eq!(labels(&axis), ["0.001", "0.01", "0.1", "1"]);
        assert_eq!(axis.decades(), (-3, 0));
        assert_eq!((axis.position(0.001), axis.position(1.0)), (0.0, 1.0));
        // Firefly's 0.0033 against the baseline's 0.0057: log₁₀(0.0057 / 0.0033) / 3 of the
        // height apart (7.9 % of it, 0.3 % on a linear axis to 0.8).
        let gap = axis.position(0.0057) - axis.position(0.0033);
        assert!(
            (gap - (0.0057f64 / 0.0033).log10() / 3.0).abs() < 1e-12,
            "{gap}"
        );
        assert!((axis.position(0.0033) - ((0.0033f64).log10() + 3.0) / 3.0).abs() < 1e-12);
        // A loss that is zero, not a number or below the bottom sits on the bottom line.
        for v in [0.0, f64::NAN, -1.0, 1e-9] {
            assert_eq!(axis.position(v), 0.0, "{v}");
        }
        // Within two decades, 2 and 5 times each power of ten as well.
        assert_eq!(
            labels(&LossAxis::covering([0.69, 0.4])),
            ["0.1", "0.2", "0.5", "1"]
        );
        // A loss of exactly 0.1 keeps its decade as the top; nothing positive gives 0.1 to 1.
        assert_eq!(
            labels(&LossAxis::covering([0.1])),
            ["0.01", "0.02", "0.05", "0.1"]
        );
        assert_eq!(
            labels(&LossAxis::covering([f64::NAN, 0.0])),
            ["0.1", "0.2", "0.5", "1"]
        );
        // At most six decades below the top.
        assert_eq!(
            labels(&LossAxis::covering([1e-12, 0.5])),
            ["1e-6", "1e-5", "1e-4", "0.001", "0.01", "0.1", "1"]
        );
    }

    #[test]
    fn a_pointer_reads_the_epoch_under_it_and_the_nearest_record() {
        use firefly_playground::chart::{EpochAxis, nearest};
        // Linear: epochs 0 to 600 across the width.
        let linear = EpochAxis::new(600, &[300]);
        assert_eq!(linear.epoch_at(0.5), 300.0);
        assert_eq!(linear.epoch_at(1.5), 600.0, "clamped to the right edge");
        // With a logarithmic tail (growth at 300 and 600, then 60,000 epochs): both sides invert.
        let axis = EpochAxis::new(60_000, &[300, 600]);
        assert!(axis.tail_start() < 1.0);
        for epoch in [0.0, 450.0, 1_200.0, 5_000.0, 60_000.0] {
            let back = axis.epoch_at(axis.position(epoch));
            assert!(
                (back - epoch).abs() < 1e-6 * epoch.max(1.0),
                "{epoch} → {back}"
            );
        }
        // The record nearest the pointer; the earlier of two as near.
        let epochs = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(nearest(&epochs, 2.9), Some(1));
        assert_eq!(nearest(&epochs, 3.0), Some(1));
        assert_eq!(nearest(&epochs, 3.1), Some(2));
        assert_eq!(nearest(&epochs, -5.0), Some(0));
        assert_eq!(nearest(&epochs, 100.0), Some(3));
        assert_eq!(nearest(&[], 1.0), None);
    }

    #[test]
    fn y_labels_never_overlap_on_a_short_chart() {
        // 0, 0.5 and 1 on a y axis 12 px tall (y grows downwards): 1 at the top is labelled,
        // 0.5 (6 px below it) is not, 0 (12 px below) is.
        assert_eq!(spaced(&[12.0, 6.0, 0.0], 11.0), [true, false, true]);
        // Tall enough: every one.
        assert_eq!(spaced(&[60.0, 30.0, 0.0], 11.0), [true, true, true]);
        // Five ticks 8 px apart: every other one from the top, whatever their order.
        assert_eq!(
            spaced(&[32.0, 24.0, 16.0, 8.0, 0.0], 11.0),
            [true, false, true, false, true]
        );
        assert_eq!(spaced(&[], 11.0), Vec::<bool>::new());
    }

    fn labels(ticks: &[firefly_playground::chart::Tick]) -> Vec<&str> {
        ticks.iter().map(|t| t.label.as_str()).collect()
    }

    #[test]
    fn steps_are_one_two_two_and_a_half_or_five_times_a_power_of_ten() {
        let check = |raw: f64, want: f64| {
            let got = Step::at_least(raw).value();
            assert!((got - want).abs() < want * 1e-12, "{raw}: {got} ≠ {want}");
        };
        check(0.07, 0.1);
        check(0.2, 0.2);
        check(0.021, 0.025);
        check(0.03, 0.05);
        check(3.0, 5.0);
        check(1100.0, 2000.0);
        check(2.2e-9, 2.5e-9);
    }

    #[test]
    fn every_label_is_the_exact_value_of_its_gridline() {
        // 0.3 over four ticks: a step of 0.075 is not nice; 0.1 is.
        assert_eq!(
            labels(&covering_ticks(0.0, 0.3, 4)),
            ["0", "0.1", "0.2", "0.3"]
        );
        // 0.09 over four: 0.0225 → 0.025; the gridline at 0.075 reads 0.075, not 0.08.
        let ticks = covering_ticks(0.0, 0.09, 4);
        assert_eq!(labels(&ticks), ["0", "0.025", "0.05", "0.075", "0.1"]);
        for t in &ticks {
            let printed: f64 = t.label.parse().unwrap();
            assert!(
                (printed - t.value).abs() <= 1e-15,
                "{} at {}",
                t.label,
                t.value
            );
        }
        // Tiny losses in scientific notation, still exact.
        assert_eq!(
            labels(&covering_ticks(0.0, 9e-9, 4)),
            ["0", "2.5e-9", "5e-9", "7.5e-9", "1e-8"]
        );
        // Large epoch counts with k, huge values in scientific notation.
        assert_eq!(
            labels(&inner_ticks(10_000.0, 20_000.0, 4, true)),
            ["10k", "12.5k", "15k", "17.5k", "20k"]
        );
        assert_eq!(
            labels(&inner_ticks(0.0, 8_000.0, 4, true)),
            ["0", "2000", "4000", "6000", "8000"]
        );
        assert_eq!(
            labels(&inner_ticks(0.0, 4_000_000.0, 2, true)),
            ["0", "2e6", "4e6"]
        );
    }

    #[test]
    fn covering_ticks_end_on_a_gridline_at_or_above_the_maximum() {
        let ticks = covering_ticks(0.0, 0.71, 4);
        assert_eq!(labels(&ticks), ["0", "0.2", "0.4", "0.6", "0.8"]);
        // A degenerate range still gives an axis.
        assert_eq!(labels(&covering_ticks(0.0, 0.0, 4)).first(), Some(&"0"));
    }

    #[test]
    fn whole_number_axes_never_print_fractions() {
        assert_eq!(
            labels(&inner_ticks(1.0, 4.0, 5, true)),
            ["1", "2", "3", "4"]
        );
        assert_eq!(labels(&inner_ticks(0.0, 12.0, 5, true)), ["0", "5", "10"]);
        assert_eq!(labels(&inner_ticks(3.0, 17.0, 5, true)), ["5", "10", "15"]);
    }
}

mod epoch_axis {
    use firefly_playground::chart::EpochAxis;

    #[test]
    fn inside_the_growth_window_the_axis_is_plainly_linear() {
        // Growths every 300 epochs, 1,400 epochs so far (the next growth is late, not
        // missing): 0..1400 linear.
        let axis = EpochAxis::new(1400, &[300, 600, 900]);
        assert_eq!(axis.position(0.0), 0.0);
        assert_eq!(axis.position(700.0), 0.5);
        assert_eq!(axis.position(1400.0), 1.0);
        assert_eq!(axis.tail_start(), 1.0);
    }

    #[test]
    fn after_minutes_of_training_the_growth_window_keeps_most_of_the_width() {
        // The opening experiment: 15 growths every 300 epochs (300..4500), then 480,000 epochs.
        let growths: Vec<usize> = (1..=15).map(|i| 300 * i).collect();
        let axis = EpochAxis::new(480_000, &growths);
        // Window 5,100 epochs (two intervals past 4,500); 94× past it: the tail has its
        // maximum share, 40 %.
        assert!((axis.tail_start() - 0.6).abs() < 1e-12);
        assert!((axis.position(5100.0) - 0.6).abs() < 1e-12);
        assert!((axis.position(480_000.0) - 1.0).abs() < 1e-12);
        // Growths stay evenly spaced: 300 epochs is 0.6 / 17 of the width each.
        let spacing = axis.position(600.0) - axis.position(300.0);
        assert!((spacing - 0.6 / 17.0).abs() < 1e-12);
        assert!((axis.position(4500.0) - axis.position(4200.0) - spacing).abs() < 1e-12);
        // Monotone everywhere.
        let xs: Vec<f64> = (0..=1000)
            .map(|i| axis.position(i as f64 * 480.0))
            .collect();
        assert!(xs.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn the_tail_grows_with_the_run_without_a_jump() {
        let growths = [100, 150];
        // Window 250 (two intervals of 50 past 150).
        let share = |last: usize| 1.0 - EpochAxis::new(last, &growths).tail_start();
        assert_eq!(share(250), 0.0);
        assert!(share(251) < 0.001);
        assert!((share(2500) - 0.3).abs() < 1e-12);
        assert!((share(250_000) - 0.4).abs() < 1e-12);
    }

    #[test]
    fn ticks_are_exact_and_apart_on_both_parts() {
        let growths: Vec<usize> = (1..=15).map(|i| 300 * i).collect();
        let axis = EpochAxis::new(480_000, &growths);
        let width = 400.0;
        // 160 px for two decades: 1, 2, 5 would stand 24 px apart, so only powers of ten.
        let ticks = axis.ticks(width, 28.0);
        let labels: Vec<&str> = ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0", "2000", "4000", "10k", "100k"]);
        let xs: Vec<f64> = ticks
            .iter()
            .map(|t| axis.position(t.value) * width)
            .collect();
        assert!(xs.windows(2).all(|w| w[1] - w[0] >= 28.0), "{xs:?}");
    }
}

mod legends {
    use firefly_playground::chart::legend_rows;

    #[test]
    fn entries_wrap_into_rows_in_order() {
        // 300 px of room: 100 + 100 + 80 fit (with 10 px gaps: 300), the fourth wraps.
        let rows = legend_rows(&[100.0, 100.0, 80.0, 60.0], 300.0, 10.0);
        assert_eq!(rows, vec![vec![0, 1, 2], vec![3]]);
        // An entry wider than the room gets its own row.
        let rows = legend_rows(&[50.0, 400.0, 50.0], 300.0, 10.0);
        assert_eq!(rows, vec![vec![0], vec![1], vec![2]]);
        assert!(legend_rows(&[], 300.0, 10.0).is_empty());
    }
}

mod diagram {
    use firefly_playground::chart::{LABEL_BAND, LAYER_FONT, layout, text_width};
    use firefly_playground::data::Task;
    use firefly_playground::model::{Activation, Block, BlockKind, Matrix, Mlp, ModelConfig};

    /// A network `2-widths[0]-…` with `residual` residual layers of 3 units after the first
    /// dense layer (as depth growth leaves it: `2-4-3r-3r-…-2`).
    fn deep(widths: &[usize], residual: usize) -> Mlp {
        let config = ModelConfig {
            n_inputs: 2,
            hidden: widths.to_vec(),
            activation: Activation::Tanh,
        };
        let mut net = Mlp::new(&config, Task::Classification { n_classes: 2 }, 1).unwrap();
        let d = widths[0];
        for r in 0..residual {
            let ids = (0..3).map(|_| net.fresh_unit_id()).collect();
            net.blocks.insert(
                1 + r,
                Block {
                    kind: BlockKind::Residual,
                    fan_in: Matrix::zeros(d, 3),
                    bias: vec![0.0; 3],
                    fan_out: Some(Matrix::zeros(3, d)),
                    unit_ids: ids,
                },
            );
        }
        net
    }

    /// Boxes of every node (squares of the layout's size), label and number, as
    /// (left, top, right, bottom); none may overlap another.
    fn check(net: &Mlp, w: f64, h: f64, every_layer_named: bool) {
        let l = layout(net, w, h);
        let half = l.size / 2.0;
        let mut boxes: Vec<(f64, f64, f64, f64, String)> = Vec::new();
        for (node, (x, y)) in l.nodes() {
            boxes.push((x - half, y - half, x + half, y + half, format!("{node:?}")));
            if l.number_font > 0.0
                && let firefly_playground::chart::Node::Unit(id) = node
            {
                let tw = text_width(&id.to_string(), l.number_font);
                boxes.push((
                    x - half - 3.0 - tw,
                    y - 4.0,
                    x - half - 3.0,
                    y + 4.0,
                    format!("#{id}"),
                ));
            }
        }
        for label in &l.layer_labels {
            let tw = text_width(&label.text, LAYER_FONT);
            assert!(
                label.x - tw / 2.0 >= 0.0 && label.x + tw / 2.0 <= w,
                "{label:?}"
            );
            boxes.push((
                label.x - tw / 2.0,
                2.0,
                label.x + tw / 2.0,
                LABEL_BAND,
                label.text.clone(),
            ));
        }
        for (i, a) in boxes.iter().enumerate() {
            assert!(
                a.0 >= 0.0 && a.2 <= w && a.1 >= 0.0 && a.3 <= h,
                "{} outside: {a:?}",
                a.4
            );
            for b in &boxes[i + 1..] {
                let apart = a.2 <= b.0 || b.2 <= a.0 || a.3 <= b.1 || b.3 <= a.1;
                assert!(
                    apart,
                    "{} overlaps {} ({a:?}, {b:?}) in {}",
                    a.4,
                    b.4,
                    net.architecture()
                );
            }
        }
        // The layer numbers run in order; where there is room every layer is named.
        let numbers: Vec<usize> = l
            .layer_labels
            .iter()
            .map(|x| x.text.trim_start_matches("layer ").parse().unwrap())
            .collect();
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
        if every_layer_named {
            let all: Vec<usize> = (1..=net.blocks.len()).collect();
            assert_eq!(numbers, all, "{}", net.architecture());
        }
    }

    #[test]
    fn input_features_get_room_for_their_names() {
        let net = deep(&[4, 2], 0);
        let plain = layout(&net, 620.0, 300.0);
        assert_eq!(plain.input_labels, ["x₁", "x₂"]);
        let names: Vec<String> = ["sin x₁", "x₁x₂"].map(String::from).to_vec();
        let named = firefly_playground::chart::layout_labelled(&net, 620.0, 300.0, names.clone());
        assert_eq!(named.input_labels, names);
        let font = firefly_playground::chart::INPUT_FONT;
        for (label, p) in names.iter().zip(&named.columns[0]) {
            // The name, drawn right-aligned 3 px left of its square, starts inside the canvas.
            let start = p.0 - named.size / 2.0 - 3.0 - text_width(label, font);
            assert!(start >= 0.0, "{label} starts at {start}");
        }
        assert!(named.columns[0][0].0 > plain.columns[0][0].0);
    }

    #[test]
    fn a_small_network_gets_room_numbers_and_words() {
        let net = deep(&[4, 2], 0);
        let l = layout(&net, 620.0, 300.0);
        assert_eq!(l.size, 28.0);
        assert!(l.number_font > 0.0);
        let texts: Vec<&str> = l.layer_labels.iter().map(|x| x.text.as_str()).collect();
        assert_eq!(texts, ["layer 1", "layer 2"]);
        check(&net, 620.0, 300.0, true);
    }

    #[test]
    fn seventeen_layers_after_depth_growth_do_not_overlap() {
        // 2-4-3r×16-2: 17 hidden layers, 35 columns on the page's 620×300 canvas.
        let net = deep(&[4], 16);
        assert_eq!(net.blocks.len(), 17);
        check(&net, 620.0, 300.0, true);
        // At the width the page gives the diagram on a 1400-pixel screen, too.
        check(&net, 480.0, 232.0, true);
        // Still big enough to see, with their numbers.
        let l = layout(&net, 620.0, 300.0);
        assert!(l.size >= 6.0, "{}", l.size);
        assert!(l.number_font > 0.0);
    }

    #[test]
    fn very_deep_or_wide_networks_shrink_and_drop_numbers_instead_of_overlapping() {
        check(&deep(&[4], 40), 620.0, 300.0, false);
        check(&deep(&[64, 64], 3), 620.0, 300.0, true);
        check(&deep(&[8], 16), 300.0, 200.0, false);
    }
}

mod edges {
    use std::collections::HashMap;

    use firefly_playground::chart::{
        EDGE_REACH, Edge, End, clear_edge, edge_at, edge_path, edge_text, edge_width, edges,
        layout, loss_line, segment_distance,
    };
    use firefly_playground::data::Task;
    use firefly_playground::model::{Activation, Block, BlockKind, Matrix, Mlp, ModelConfig};

    fn net(hidden: &[usize], classes: usize) -> Mlp {
        let config = ModelConfig {
            n_inputs: 2,
            hidden: hidden.to_vec(),
            activation: Activation::Tanh,
        };
        Mlp::new(&config, Task::Classification { n_classes: classes }, 3).unwrap()
    }

    fn edge(a: (f64, f64), b: (f64, f64), weight: f32) -> Edge {
        Edge {
            from: End::Input(0),
            to: End::Output(0),
            weight,
            a,
            b,
            fades_with: None,
        }
    }

    #[test]
    fn the_distance_to_a_segment_is_to_its_nearest_point() {
        let (a, b) = ((0.0, 0.0), (10.0, 0.0));
        assert_eq!(segment_distance((5.0, 3.0), a, b), 3.0);
        // Beyond an end: to the end.
        assert_eq!(segment_distance((13.0, 4.0), a, b), 5.0);
        assert_eq!(segment_distance((-3.0, -4.0), a, b), 5.0);
        // A segment of no length is a point.
        assert_eq!(segment_distance((3.0, 4.0), a, a), 5.0);
    }

    #[test]
    fn the_curve_runs_between_its_nodes_through_their_midpoint() {
        let path = edge_path((10.0, 20.0), (110.0, 220.0));
        assert_eq!(path.first(), Some(&(10.0, 20.0)));
        assert_eq!(path.last(), Some(&(110.0, 220.0)));
        let mid = path[path.len() / 2];
        assert!(
            (mid.0 - 60.0).abs() < 1e-9 && (mid.1 - 120.0).abs() < 1e-9,
            "{mid:?}"
        );
        // It leaves and enters horizontally: flat near both ends, steep in the middle.
        assert!((path[1].1 - 20.0).abs() < (path[8].1 - path[7].1).abs());
    }

    #[test]
    fn every_weight_is_one_edge_between_the_nodes_it_joins() {
        // 2-4-2: 2·4 input weights, 4·2 output weights.
        let n = net(&[4], 2);
        let l = layout(&n, 620.0, 300.0);
        let all = edges(&n, &l, &HashMap::new());
        assert_eq!(all.len(), 16);
        let ids = &n.blocks[0].unit_ids;
        for e in &all {
            match (e.from, e.to) {
                (End::Input(i), End::Unit { id, layer: 0 }) => {
                    let j = ids.iter().position(|u| *u == id).unwrap();
                    assert_eq!(e.weight, n.blocks[0].fan_in.get(i, j));
                    assert_eq!(e.a, l.columns[0][i]);
                    assert_eq!(e.b, l.units[&id]);
                    assert_eq!(e.fades_with, Some(id));
                }
                (End::Unit { id, layer: 0 }, End::Output(k)) => {
                    let j = ids.iter().position(|u| *u == id).unwrap();
                    assert_eq!(e.weight, n.out_weight.get(j, k));
                    assert_eq!(e.b, l.columns[2][k]);
                    assert_eq!(e.fades_with, None);
                }
                other => panic!("unexpected edge {other:?}"),
            }
        }
        // A moved unit (a growth animation) moves its edges.
        let moved = HashMap::from([(ids[0], (1.0, 2.0))]);
        let shifted = edges(&n, &l, &moved);
        assert!(shifted.iter().any(|e| e.b == (1.0, 2.0)));
        assert!(shifted.iter().any(|e| e.a == (1.0, 2.0)));
    }

    #[test]
    fn a_residual_layer_reads_the_stream_and_adds_back_to_it() {
        // 2-4-3r-2: 2·4 + 4·3 in, 3·4 back into the stream, 4·2 out of the stream.
        let mut n = net(&[4], 2);
        let ids = (0..3).map(|_| n.fresh_unit_id()).collect::<Vec<_>>();
        let mut fan_out = Matrix::zeros(3, 4);
        fan_out.set(2, 1, 0.5);
        n.blocks.push(Block {
            kind: BlockKind::Residual,
            fan_in: Matrix::zeros(4, 3),
            bias: vec![0.0; 3],
            fan_out: Some(fan_out),
            unit_ids: ids.clone(),
        });
        let l = layout(&n, 620.0, 300.0);
        let all = edges(&n, &l, &HashMap::new());
        assert_eq!(all.len(), 8 + 12 + 12 + 8);
        let back = all
            .iter()
            .find(|e| e.weight == 0.5)
            .expect("the residual weight");
        assert_eq!(
            back.from,
            End::Unit {
                id: ids[2],
                layer: 1
            }
        );
        assert_eq!(back.to, End::Stream { layer: 1, index: 1 });
        assert_eq!(back.b, l.columns[3][1]);
        assert_eq!(
            edge_text(back, &l.input_labels),
            "weight 0.500 from unit 6 (layer 2) to pass-through 2 (after layer 2)"
        );
        // The outputs read the stream, not the residual units.
        assert!(
            all.iter()
                .filter(|e| matches!(e.to, End::Output(_)))
                .all(|e| matches!(e.from, End::Stream { layer: 1, .. }))
        );
    }

    #[test]
    fn thickness_grows_with_the_size_of_the_weight_whatever_its_sign() {
        assert_eq!(edge_width(0.0), 0.4);
        assert_eq!(edge_width(0.5), 1.0);
        assert_eq!(edge_width(-0.5), 1.0);
        assert_eq!(edge_width(2.0), 4.0);
        assert_eq!(edge_width(-10.0), 6.0);
        assert_eq!(edge_width(f32::NAN), 0.4);
        assert_eq!(edge_width(f32::INFINITY), 0.4);
        let widths: Vec<f64> = (0..40).map(|i| edge_width(i as f32 * 0.1)).collect();
        assert!(widths.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn the_pointer_finds_the_nearest_edge_within_reach_of_its_stroke() {
        // A thin edge along y = 0 and a thick one along y = 20 (width 6: 3 px either side).
        let lines = [
            edge((0.0, 0.0), (100.0, 0.0), 0.1),
            edge((0.0, 20.0), (100.0, 20.0), 3.0),
        ];
        assert_eq!(edge_at(&lines, (50.0, 0.0), EDGE_REACH), Some(0));
        assert_eq!(edge_at(&lines, (50.0, 3.0), EDGE_REACH), Some(0));
        // 5 px from the thin one's line is out of reach; 5 px from the thick one's line is
        // 2 px from its stroke.
        assert_eq!(edge_at(&lines, (50.0, -5.0), EDGE_REACH), None);
        assert_eq!(edge_at(&lines, (50.0, 25.0), EDGE_REACH), Some(1));
        // Between them: the nearer stroke (y = 12 is 12 px from the thin one, 5 from the
        // thick one's stroke: out of reach of both; y = 15 is 2 px from the thick stroke).
        assert_eq!(edge_at(&lines, (50.0, 12.0), EDGE_REACH), None);
        assert_eq!(edge_at(&lines, (50.0, 15.0), EDGE_REACH), Some(1));
        // Past an end, within reach of it.
        assert_eq!(edge_at(&lines, (103.0, 0.0), EDGE_REACH), Some(0));
        assert_eq!(edge_at(&lines, (110.0, 0.0), EDGE_REACH), None);
        assert_eq!(edge_at(&[], (0.0, 0.0), EDGE_REACH), None);
    }

    #[test]
    fn the_pointer_follows_the_curve_not_the_straight_line() {
        // A curve from (0, 0) to (100, 100): at a quarter of the way along x it is still near
        // y = 0 (it leaves horizontally), far from the straight line's y = 25.
        let curve = [edge((0.0, 0.0), (100.0, 100.0), 1.0)];
        let path = edge_path((0.0, 0.0), (100.0, 100.0));
        let quarter = path[4];
        assert!(quarter.1 < 20.0, "{quarter:?}");
        assert_eq!(edge_at(&curve, quarter, EDGE_REACH), Some(0));
        assert_eq!(edge_at(&curve, (25.0, 25.0), EDGE_REACH), None);
    }

    #[test]
    fn on_the_page_network_every_point_of_an_edge_finds_an_edge_through_it() {
        let n = net(&[4, 3], 2);
        let l = layout(&n, 620.0, 300.0);
        let all = edges(&n, &l, &HashMap::new());
        for e in &all {
            for p in edge_path(e.a, e.b) {
                let hit = edge_at(&all, p, EDGE_REACH).expect("an edge under its own curve");
                // The edge itself, or one that runs through the same point (they cross there
                // or share a node): no farther from it than the edge's own curve.
                let through = edge_path(all[hit].a, all[hit].b)
                    .windows(2)
                    .map(|s| segment_distance(p, s[0], s[1]))
                    .fold(f64::INFINITY, f64::min);
                assert!(through < 1e-6, "{e:?} at {p:?} finds {:?}", all[hit]);
            }
        }
        // Far from every edge: above the diagram.
        assert_eq!(edge_at(&all, (300.0, 1.0), EDGE_REACH), None);
    }

    #[test]
    fn the_clear_edge_is_the_one_found_at_and_around_its_midpoint() {
        for hidden in [&[2][..], &[4, 3], &[8, 8, 8]] {
            let n = net(hidden, 2);
            let l = layout(&n, 620.0, 300.0);
            let all = edges(&n, &l, &HashMap::new());
            let i = clear_edge(&all, &l, EDGE_REACH).expect("a clear edge");
            let e = &all[i];
            let mid = ((e.a.0 + e.b.0) / 2.0, (e.a.1 + e.b.1) / 2.0);
            for (dx, dy) in [(0.0, 0.0), (2.0, 2.0), (-2.0, 1.0), (1.0, -2.0)] {
                let p = (mid.0 + dx, mid.1 + dy);
                assert_eq!(edge_at(&all, p, EDGE_REACH), Some(i), "{hidden:?} at {p:?}");
            }
        }
    }

    #[test]
    fn the_hover_text_names_the_weight_and_its_nodes() {
        let e = Edge {
            from: End::Unit { id: 3, layer: 0 },
            to: End::Unit { id: 2, layer: 1 },
            weight: 0.71321,
            a: (0.0, 0.0),
            b: (1.0, 1.0),
            fades_with: None,
        };
        assert_eq!(
            edge_text(&e, &[]),
            "weight 0.713 from unit 3 (layer 1) to unit 2 (layer 2)"
        );
        let e = Edge {
            from: End::Input(1),
            to: End::Output(0),
            weight: -0.0000123,
            ..e
        };
        assert_eq!(
            edge_text(&e, &[]),
            "weight -1.23e-5 from input x₂ to output 1"
        );
        // With input features the input is named by its feature.
        let names: Vec<String> = ["x₁²", "sin x₂"].map(String::from).to_vec();
        assert_eq!(
            edge_text(&e, &names),
            "weight -1.23e-5 from input sin x₂ to output 1"
        );
    }

    #[test]
    fn the_loss_line_prints_both_losses_in_significant_digits() {
        // As read, with the no-break spaces that keep each half on one line as plain ones.
        let read = |last| loss_line(last).replace('\u{a0}', " ");
        assert_eq!(
            read(Some((0.1234, 0.098))),
            "Test loss 0.123 / Training loss 0.0980"
        );
        assert_eq!(
            read(Some((2.5e-7, 1.0e-8))),
            "Test loss 2.5e-7 / Training loss 1e-8"
        );
        assert_eq!(read(None), "Test loss — / Training loss —");
        // The only places a narrow map may break it: around the slash.
        let line = loss_line(Some((0.1234, 0.098)));
        assert_eq!(line.split(' ').collect::<Vec<_>>().len(), 3, "{line:?}");
    }
}

mod maps {
    use firefly_playground::chart::{MAP_BUDGET_MACS, macs_per_point, map_resolution};
    use firefly_playground::data::Task;
    use firefly_playground::model::{Activation, Mlp, ModelConfig};

    fn net(hidden: &[usize]) -> Mlp {
        let config = ModelConfig {
            n_inputs: 2,
            hidden: hidden.to_vec(),
            activation: Activation::Tanh,
        };
        Mlp::new(&config, Task::Classification { n_classes: 2 }, 3).unwrap()
    }

    #[test]
    fn a_map_costs_what_its_network_costs_a_point_times_its_points() {
        // 2→4→2→2: 8 + 8 + 4 multiply-adds a point.
        assert_eq!(macs_per_point(&net(&[4, 2])), 20);
        // 2→1024→2: 2,048 in and 2,048 out.
        assert_eq!(macs_per_point(&net(&[1024])), 4096);
        // The page's networks up to TensorFlow Playground's largest keep 100×100 maps.
        assert_eq!(map_resolution(&net(&[4, 2])), 100);
        assert_eq!(map_resolution(&net(&[8, 8, 8, 8, 8, 8])), 100);
        // A 1,024-unit layer: ⌊√(4e6 / 4096)⌋ = 31, so one map stays within the budget.
        let wide = net(&[1024]);
        assert_eq!(map_resolution(&wide), 31);
        let cost = (31 * 31 * macs_per_point(&wide)) as f64;
        assert!(cost <= MAP_BUDGET_MACS, "{cost}");
        // Up to 64 units a layer, the full grid whatever it costs.
        assert_eq!(map_resolution(&net(&[64, 64, 64, 64])), 100);
        // Never coarser than 24 points a side, whatever the network.
        assert_eq!(map_resolution(&net(&[1024, 1024])), 24);
    }

    #[test]
    fn a_wide_layer_leaves_room_for_the_names_of_the_inputs_and_outputs() {
        use firefly_playground::chart::{INPUT_FONT, layout};
        // 1,024 units in 300 px make squares of 2 px; the two inputs and two outputs, named on
        // the diagram, stay a line of text apart. A narrow network is laid out as before.
        let l = layout(&net(&[1024]), 460.0, 300.0);
        assert!(l.size <= 2.0, "{}", l.size);
        for column in [l.columns.first(), l.columns.last()] {
            let column = column.expect("a column");
            assert_eq!(column.len(), 2);
            let pitch = column[1].1 - column[0].1;
            assert!(pitch >= INPUT_FONT + 3.0, "{pitch}");
        }
        let narrow = layout(&net(&[4, 2]), 460.0, 300.0);
        let inputs = &narrow.columns[0];
        assert!((inputs[1].1 - inputs[0].1 - 1.6 * narrow.size).abs() < 1e-9);
    }

    #[test]
    fn a_wide_matrix_draws_its_strongest_weights() {
        use firefly_playground::chart::{MAX_EDGES_PER_MATRIX, edges, layout};
        use firefly_playground::model::Matrix;
        // 2 → 1,024 → 2: each matrix has 2,048 weights, over the 1,024 drawn of each.
        let mut wide = net(&[1024]);
        let drawn = edges(&wide, &layout(&wide, 400.0, 300.0), &Default::default());
        assert_eq!(drawn.len(), 2 * MAX_EDGES_PER_MATRIX);
        // Distinct magnitudes: the drawn ones of the input matrix are its 1,024 largest.
        let (rows, cols) = (wide.blocks[0].fan_in.rows, wide.blocks[0].fan_in.cols);
        let mut fan_in = Matrix::zeros(rows, cols);
        for i in 0..rows {
            for j in 0..cols {
                fan_in.set(
                    i,
                    j,
                    (i * cols + j) as f32 * if j % 2 == 0 { 1.0 } else { -1.0 },
                );
            }
        }
        wide.blocks[0].fan_in = fan_in;
        let drawn = edges(&wide, &layout(&wide, 400.0, 300.0), &Default::default());
        let inputs: Vec<f32> = drawn
            .iter()
            .take(MAX_EDGES_PER_MATRIX)
            .map(|e| e.weight.abs())
            .collect();
        assert!(
            inputs.iter().all(|w| *w >= 1024.0),
            "only the strongest are drawn"
        );
        // A network of 32 units a layer draws every weight.
        let narrow = net(&[32, 32]);
        let all = edges(&narrow, &layout(&narrow, 400.0, 300.0), &Default::default());
        assert_eq!(all.len(), 2 * 32 + 32 * 32 + 32 * 2);
    }
}
