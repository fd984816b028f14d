//! The end-to-end checks of the controls a TensorFlow Playground user looks for first, each by its
//! effect on the run: `features` and `regularization`.

use std::path::Path;

use super::Report;
use super::checks::{App, app_now, open, open_hash, snap, wait_for};
use super::page::choose;
use super::webdriver::{Session, secs};

pub fn run_all(session: &Session, base: &str, out_dir: &Path, report: &mut Report) {
    report.check("features", || features(session, base, out_dir));
    report.check("regularization", || regularization(session, base));
}

/// One hidden unit that never grows, trained as fast as the page can on the circle.
const ONE_UNIT: &str = "index.html#backend=cpu&speed=0&max-units=1&lr=0.3";

fn settings(app: &App) -> String {
    app.text("settings").replace("%2C", ",")
}

/// Waits for `epochs` epochs of both runs of the settings in force whose link has `pair`, and
/// returns the page then.
fn trained(session: &Session, pair: &str, epochs: f64) -> Result<App, String> {
    wait_for(session, &format!("{epochs} epochs with {pair}"), secs(90), |a| {
        Ok(settings(a).split('&').any(|p| p == pair)
            && a.num("epoch") >= epochs
            && a.num("baseline-epoch") >= epochs
            && a.num("loss") > 0.0)
    })
}

/// `features`: with x₁ and x₂ one tanh unit cuts the circle with a line and its loss stays high;
/// toggling x₁² and x₂² on and x₁, x₂ off (four clicks, as a person would) restarts both runs on
/// the squares, where one unit separates the circle: the loss falls far below. Turning the last
/// feature off is refused with a notice and the box is checked again.
fn features(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    open(session, &format!("{base}{ONE_UNIT}"))?;
    let plane = trained(session, "max-units=1", 400.0)?;
    fail_if!(
        settings(&plane).contains("features="),
        "the default link names features: {}",
        settings(&plane)
    );
    let plane_loss = plane.num("loss");
    for id in ["features-x1sq", "features-x2sq", "features-x1", "features-x2"] {
        session.click(&format!("#{id}"))?;
    }
    let squares = trained(session, "features=x1sq,x2sq", 400.0)?;
    let named = session.text("return document.getElementById('network').dataset.inputs || '';")?;
    fail_if!(named != "x₁²,x₂²", "the diagram should name its inputs x₁², x₂²: {named:?}");
    let squares_loss = squares.num("loss");
    fail_if!(
        squares_loss.is_nan() || squares_loss > plane_loss / 3.0,
        "one unit on x₁², x₂² should separate the circle: loss {squares_loss} against \
             {plane_loss} on x₁, x₂"
    );
    // The last feature on: refused, named, and shown checked again.
    session.click("#features-x2sq")?;
    session.click("#features-x1sq")?;
    let refused = wait_for(session, "a notice for the last feature", secs(10), |a| {
        Ok(a.text("notices").contains("at least one input feature"))
    })?;
    let checked =
        session.script("return document.getElementById('features-x1sq').checked;")?.as_bool();
    fail_if!(
        checked != Some(true) || !settings(&refused).contains("features=x1sq"),
        "after the refusal x₁² should be on and in force: checked {checked:?}, {}",
        settings(&refused)
    );
    snap(session, out_dir, "features.png")?;
    Ok(format!(
        "one unit: loss {plane_loss:.3} on x₁, x₂, {squares_loss:.4} on x₁², x₂² (the diagram \
         names them); the last feature stays on with a notice"
    ))
}

/// `regularization`: four units on the circle reach a low loss; L2 at rate 1 (two lists, as a
/// person picks them) restarts the runs with the weights pulled towards zero, and the training
/// loss after as many epochs stays several times higher.
fn regularization(session: &Session, base: &str) -> Result<String, String> {
    open_hash(session, base, "backend=cpu&speed=0&layers=4&max-units=4&lr=0.3")?;
    let free = trained(session, "layers=4", 600.0)?.num("loss");
    choose(session, "regularization", "l2")?;
    choose(session, "reg-rate", "1")?;
    let app = trained(session, "reg-rate=1", 600.0)?;
    fail_if!(
        !settings(&app).contains("regularization=l2"),
        "L2 is not in force: {}",
        settings(&app)
    );
    let held = app.num("loss");
    fail_if!(
        held.is_nan() || held < 3.0 * free,
        "L2 at rate 1 should hold the loss up: {held} against {free} without"
    );
    let page = app_now(session)?;
    let epoch = page.num("epoch");
    Ok(format!(
        "training loss at epoch 600: {free:.4} without a penalty, {held:.4} with L2 at 1 (now \
         epoch {epoch})"
    ))
}
