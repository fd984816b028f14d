//! The network diagram of the view: where its nodes go (the inputs named by the run's
//! features), the growth animation, the pointer over it (a node, else the nearest edge), keyboard
//! focus through its nodes, and the card that describes the node or edge inspected.

use std::collections::HashMap;

use super::*;

impl View {
    /// The pointer moved over the diagram (canvas coordinates), or left it: a node under it,
    /// else the nearest edge within reach.
    pub fn hover(&mut self, position: Option<(f64, f64)>, p: &Playground) {
        self.inspect.hovered = position.and_then(|(x, y)| self.node_at(x, y));
        self.inspect.edge = match (self.inspect.hovered, position) {
            (None, Some(at)) => {
                let edges = self.edges();
                chart::edge_at(&edges, at, EDGE_REACH)
                    .and_then(|i| edges.get(i))
                    .map(|e| (e.from, e.to))
            }
            _ => None,
        };
        self.render_card(p);
        self.render_network(p);
    }

    /// Arrow keys on the diagram: the keyboard takes over from the pointer.
    pub fn move_focus(&mut self, delta: i32, p: &Playground) {
        self.inspect.hovered = None;
        self.inspect.edge = None;
        let order = self.node_order(p);
        if order.is_empty() {
            return;
        }
        let current = self
            .inspect
            .focused
            .and_then(|n| order.iter().position(|o| *o == n));
        let next = match current {
            None => 0,
            Some(i) if delta.abs() >= 100 => {
                let column = |n: &Node| self.column_of(n, p);
                let here = column(&order[i]);
                let target = here + delta.signum();
                order.iter().position(|n| column(n) == target).unwrap_or(i)
            }
            Some(i) => (i as i32 + delta).rem_euclid(order.len() as i32) as usize,
        };
        self.inspect.focused = Some(order[next]);
        self.render_card(p);
        self.render_network(p);
    }

    /// The diagram lost the keyboard focus.
    pub fn blur(&mut self, p: &Playground) {
        self.inspect.focused = None;
        self.render_card(p);
        self.render_network(p);
    }

    pub(super) fn node_order(&self, p: &Playground) -> Vec<Node> {
        let net = p.main().shape();
        let mut order: Vec<Node> = (0..net.n_inputs).map(Node::Input).collect();
        order.extend(net.unit_ids().into_iter().map(Node::Unit));
        order.extend((0..net.out_bias.len()).map(Node::Output));
        order
    }

    pub(super) fn column_of(&self, node: &Node, p: &Playground) -> i32 {
        let net = p.main().shape();
        match node {
            Node::Input(_) => 0,
            Node::Unit(id) => net.unit_info(*id).map_or(1, |u| u.block as i32 + 1),
            Node::Output(_) => net.blocks.len() as i32 + 1,
        }
    }

    /// Where the diagram's nodes go on its canvas, the inputs named by the run's features.
    pub(super) fn diagram(&self, snapshot: &Snapshot) -> Layout {
        draw::layout_labelled(
            &snapshot.network,
            self.ui.network.width() as f64,
            self.ui.network.height() as f64,
            snapshot.features.labels(),
        )
    }

    /// The diagram's edges where they were last drawn (units where the animation put them).
    pub(super) fn edges(&self) -> Vec<Edge> {
        let Some(snapshot) = &self.snap_main else {
            return Vec::new();
        };
        let layout = self.diagram(snapshot);
        let moved = self
            .placed
            .iter()
            .map(|(id, p)| (*id, (p.x, p.y)))
            .collect();
        chart::edges(&snapshot.network, &layout, &moved)
    }

    pub(super) fn node_at(&self, x: f64, y: f64) -> Option<Node> {
        let snapshot = self.snap_main.as_ref()?;
        let layout = self.diagram(snapshot);
        let half = layout.size / 2.0 + 2.0;
        layout
            .nodes()
            .into_iter()
            .find(|(_, (nx, ny))| (x - nx).abs() <= half && (y - ny).abs() <= half)
            .map(|(node, _)| node)
    }

    /// One frame: read snapshots (when the runs changed), draw everything, write `data-*`.
    pub async fn frame(&mut self, p: &Playground, changed: bool) {
        self.lap_start = now();
        let grew = p.main().history().growths.len() != self.seen_growths;
        let drawn = self.snap_main.is_some() && self.snap_baseline.is_some();
        // A wide network's map and diagram would fill a frame together: they take turns
        // (each still redrawn 15 times a second), and training keeps the time.
        let heavy = self.cost("snapshot") / 2.0 + self.cost("network") > SPLIT_DRAW_MS;
        if changed && drawn && !grew && heavy && self.diagram_turn {
            self.diagram_turn = false;
            self.render_network(p);
            self.lap("network");
        } else if changed || self.snap_main.is_none() {
            self.diagram_turn = heavy;
            // A deep network's two maps cost several ms: then each frame refreshes one of them
            // (each map still updates 30 times a second) and training keeps the time.
            // After a growth the main map comes first (its network is the diagram's); a wide
            // network's baseline map follows in the next frame.
            let both = self.cost("snapshot") < SPLIT_SNAPSHOT_MS || (grew && !heavy) || !drawn;
            let (main, baseline) = if grew && !both {
                self.flip = false;
                (true, false)
            } else {
                self.flip = !self.flip;
                (both || !self.flip, both || self.flip)
            };
            // A wide network's maps on a coarser grid (the last snapshot's network says how
            // wide), so that a frame stays short.
            let resolution = self
                .snap_main
                .as_ref()
                .map_or(MAP_MAX_RESOLUTION, |s| map_resolution(&s.network));
            if main {
                match p.main().snapshot(resolution, THUMB_RESOLUTION).await {
                    Ok(snap) => self.snap_main = Some(snap),
                    Err(e) => web_sys::console::error_1(&format!("snapshot: {e}").into()),
                }
            }
            if baseline {
                match p.baseline().snapshot(resolution, THUMB_RESOLUTION).await {
                    Ok(snap) => self.snap_baseline = Some(snap),
                    Err(e) => web_sys::console::error_1(&format!("snapshot: {e}").into()),
                }
            }
            // Counted per map, so the average says what one refresh costs both ways.
            let maps = usize::from(main) + usize::from(baseline);
            self.lap_scaled("snapshot", 2.0 / maps as f64);
            let growths = p.main().history().growths.len();
            if growths > self.seen_growths {
                self.seen_growths = growths;
                self.start_animation(p);
            }
            self.render(p, !heavy || grew || !drawn);
        } else if self.animation.is_some() {
            self.render_network(p);
        }
        self.write_state(p);
        self.lap("state");
        let parts: Vec<String> = self
            .draw_ms
            .iter()
            .map(|(part, ms)| format!("\"{part}\":{ms:.2}"))
            .collect();
        set_attr(
            &self.ui.root,
            "data-draw-ms",
            &format!("{{{}}}", parts.join(",")),
        );
    }

    pub(super) fn render_network(&mut self, p: &Playground) {
        let Some(snapshot) = &self.snap_main else {
            return;
        };
        let layout = self.diagram(snapshot);
        let t = match &self.animation {
            Some(a) => ((now() - a.started) / ANIMATION_MS).clamp(0.0, 1.0),
            None => 1.0,
        };
        let ease = 1.0 - (1.0 - t).powi(3);
        let mut placed = HashMap::new();
        for (id, (x, y)) in &layout.units {
            let target = Placed {
                x: *x,
                y: *y,
                alpha: 1.0,
            };
            let at = match self.animation.as_ref().and_then(|a| a.from.get(id)) {
                Some(from) => Placed {
                    x: from.x + (target.x - from.x) * ease,
                    y: from.y + (target.y - from.y) * ease,
                    alpha: from.alpha + (1.0 - from.alpha) * ease,
                },
                None => target,
            };
            placed.insert(*id, at);
        }
        if t >= 1.0 {
            self.animation = None;
        }
        let candidates = match p.main().stage() {
            Stage::Growing(_) => p.main().pending_candidates(),
            Stage::Training => Vec::new(),
        };
        let moved = placed.iter().map(|(id, p)| (*id, (p.x, p.y))).collect();
        let edges = chart::edges(&snapshot.network, &layout, &moved);
        let hovered = self
            .inspect
            .edge
            .and_then(|(from, to)| edges.iter().position(|e| e.from == from && e.to == to));
        let _ = draw::network(
            &self.ui.network,
            &self.ui.thumbs,
            snapshot,
            &placed,
            &layout,
            &edges,
            hovered,
            self.inspected(),
            &candidates,
        );
        // An edge a test can hover (its midpoint in canvas pixels, and its weight), once the
        // units are where the layout puts them.
        if self.animation.is_none() {
            let probe = chart::clear_edge(&edges, &layout, EDGE_REACH)
                .and_then(|i| edges.get(i))
                .map_or(String::new(), |e| {
                    format!(
                        "{},{},{}",
                        (e.a.0 + e.b.0) / 2.0,
                        (e.a.1 + e.b.1) / 2.0,
                        e.weight
                    )
                });
            set_attr(&self.ui.network, "data-edge-probe", &probe);
        }
        // The inputs as the diagram names them (the run's input features).
        set_attr(
            &self.ui.network,
            "data-inputs",
            &layout.input_labels.join(","),
        );
        self.placed = placed;
    }

    /// The node ringed and described: none while an edge is hovered.
    pub(super) fn inspected(&self) -> Option<Node> {
        if self.inspect.edge.is_some() {
            return None;
        }
        self.inspect.hovered.or(self.inspect.focused)
    }

    /// The card for the hovered edge: its weight and the nodes it joins, beside its midpoint.
    pub(super) fn render_edge_card(&self, (from, to): (End, End)) {
        let edges = self.edges();
        let Some(edge) = edges.iter().find(|e| e.from == from && e.to == to) else {
            set_hidden(&self.ui.unit_card, true);
            return;
        };
        let inputs = self
            .snap_main
            .as_ref()
            .map(|s| s.features.labels())
            .unwrap_or_default();
        set_text(&self.ui.unit_card, &chart::edge_text(edge, &inputs));
        set_attr(&self.ui.unit_card, "data-weight", &edge.weight.to_string());
        let mid = ((edge.a.0 + edge.b.0) / 2.0, (edge.a.1 + edge.b.1) / 2.0);
        // Under the pointer, so that the link and the nodes it joins stay in view.
        self.place_card(mid, -30.0, 14.0);
        set_hidden(&self.ui.unit_card, false);
    }

    /// Puts the card beside canvas point `(x, y)`: `offset` canvas pixels (plus a 10 px gap)
    /// off it towards the side with more room, `down` page pixels below it (negative: above).
    pub(super) fn place_card(&self, (x, y): (f64, f64), offset: f64, down: f64) {
        let rect = self.ui.network.get_bounding_client_rect();
        let sx = rect.width() / self.ui.network.width().max(1) as f64;
        let sy = rect.height() / self.ui.network.height().max(1) as f64;
        let (px, py) = (x * sx, y * sy);
        let right_half = px > rect.width() / 2.0;
        let style = self.ui.unit_card.style();
        let offset = offset * sx + 10.0;
        if right_half {
            let _ = style.set_property("left", "auto");
            let _ = style.set_property("right", &format!("{:.0}px", rect.width() - px + offset));
        } else {
            let _ = style.set_property("right", "auto");
            let _ = style.set_property("left", &format!("{:.0}px", px + offset));
        }
        let _ = style.set_property("top", &format!("{:.0}px", (py + down).max(0.0)));
    }

    /// The unit card, placed beside the node it describes (or the hovered edge's card).
    pub(super) fn render_card(&self, p: &Playground) {
        if let Some(edge) = self.inspect.edge {
            self.render_edge_card(edge);
            return;
        }
        let _ = self.ui.unit_card.remove_attribute("data-weight");
        let Some(node) = self.inspected() else {
            set_hidden(&self.ui.unit_card, true);
            return;
        };
        let Some(snapshot) = &self.snap_main else {
            return;
        };
        let net = &snapshot.network;
        let classes = net.out_bias.len();
        let text = match node {
            Node::Input(i) => match snapshot.features.iter().nth(i) {
                Some(Feature::X1) => "Input x₁: the point's horizontal coordinate (divided by 6). Every unit of the first layer reads it through its input weights.".to_string(),
                Some(Feature::X2) => "Input x₂: the point's vertical coordinate (divided by 6). Every unit of the first layer reads it through its input weights.".to_string(),
                Some(feature) => format!(
                    "Input {}: a feature of the point ({}). Every unit of the first layer reads it through its input weights.",
                    feature.label(),
                    match feature {
                        Feature::SinX1 | Feature::SinX2 => "the sine of its coordinate",
                        _ => "from its coordinates divided by 6",
                    }
                ),
                None => format!("Input {}", i + 1),
            },
            Node::Output(k) if classes == 1 => format!(
                "Output {}: the network's prediction, the value the map shows (bias {:+.3}).",
                k + 1,
                net.out_bias.get(k).copied().unwrap_or(0.0)
            ),
            Node::Output(k) => format!(
                "Output {}: the score for class {}; the map colours each point by the class with the highest score (bias {:+.3}).",
                k + 1,
                match (classes, k) {
                    (2, 0) => "orange".to_string(),
                    (2, _) => "blue".to_string(),
                    _ => (k + 1).to_string(),
                },
                net.out_bias.get(k).copied().unwrap_or(0.0)
            ),
            Node::Unit(id) => {
                let Some(info) = net.unit_info(id) else {
                    set_hidden(&self.ui.unit_card, true);
                    return;
                };
                let origin = match p.main().history().origin(id) {
                    Some((epoch, l)) => match (l.kind, l.parent) {
                        (CandidateKind::Split, Some(parent)) => {
                            format!("split from unit {parent} at epoch {epoch}")
                        }
                        (CandidateKind::Layer, _) => {
                            format!("added with a new layer at epoch {epoch}")
                        }
                        _ => format!("added as a new unit at epoch {epoch}"),
                    },
                    None => "part of the starting network".into(),
                };
                let kind = match info.kind {
                    BlockKind::Dense => "dense",
                    BlockKind::Residual => "residual",
                };
                format!(
                    "Unit {id} · layer {} ({kind}) · input weights of size {:.2} · bias {:+.2} · output weights of size {:.2} · {origin}. Its picture is its output over the plane.",
                    info.block + 1,
                    info.fan_in_norm,
                    info.bias,
                    info.fan_out_norm
                )
            }
        };
        set_text(&self.ui.unit_card, &text);
        // Beside the node: canvas coordinates scaled to the canvas's size on the page.
        let layout = self.diagram(snapshot);
        if let Some((_, at)) = layout.nodes().into_iter().find(|(n, _)| *n == node) {
            self.place_card(at, layout.size / 2.0, -20.0);
        }
        set_hidden(&self.ui.unit_card, false);
    }
}
