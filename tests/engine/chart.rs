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
    use firefly_playground::chart::{Step, covering_ticks, inner_ticks};

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
