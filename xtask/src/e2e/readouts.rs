//! The end-to-end checks of what the page reads out beside its pictures, each by changing
//! something and reading the effect: `edge-hover`, `map-losses` and `csv-points`.

use std::path::Path;

use super::Report;
use super::checks::{REACT, open_hash, open_to_epoch, pause, snap, wait_for, wait_script};
use super::json::{Json, num_at, str_at};
use super::page::upload_csv;
use super::webdriver::{Session, poll_last, secs};

pub fn run_all(session: &Session, base: &str, out_dir: &Path, report: &mut Report) {
    report.check("edge-hover", || edge_hover(session, base, out_dir));
    report.check("map-losses", || map_losses(session, base));
    report.check("csv-points", || csv_points(session, base, out_dir));
}

/// Whether `shown` is `value` printed with three significant digits (as the page's
/// `chart::significant` prints it): within half a unit of the third digit.
fn three_digits(shown: f64, value: f64) -> bool {
    if value == 0.0 || !value.is_finite() {
        return shown == value;
    }
    let unit = 10f64.powi(value.abs().log10().floor() as i32 - 2);
    (shown - value).abs() <= unit * 0.5 * (1.0 + 1e-6)
}

/// The number in `text` after `before` and up to the next space.
fn number_after(text: &str, before: &str) -> Option<f64> {
    let rest = text.split_once(before)?.1;
    rest.split_whitespace().next()?.parse().ok()
}

/// `edge-hover`: on the opening page, paused after a few epochs, the pointer put on the
/// middle of the link the diagram names (`data-edge-probe`: its midpoint in canvas pixels and
/// its weight) brings up a card "weight W from … to …" whose W is that weight with three
/// significant digits and whose `data-weight` is the weight itself; a step of training
/// (while the pointer stays) changes the weight the card shows, still matching the weight it
/// carries; the pointer leaving hides the card.
fn edge_hover(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    open_to_epoch(session, base, "backend=cpu", 5.0, secs(90))?;
    pause(session)?;
    let probe = wait_script(
        session,
        "the diagram to name a link to hover (data-edge-probe)",
        "const p = document.getElementById('network').dataset.edgeProbe;
         return p ? p : null;",
        REACT,
    )?;
    let probe = probe.as_str().unwrap_or_default().to_string();
    let parts: Vec<f64> = probe.split(',').filter_map(|x| x.trim().parse().ok()).collect();
    let [x, y, weight] = parts[..] else {
        return Err(format!("data-edge-probe is not x,y,weight: {probe:?}"));
    };
    let card_hidden = "return document.getElementById('unit-card').hidden;";
    fail_if!(
        session.script(card_hidden)?.as_bool() != Some(true),
        "the card shows before anything is hovered"
    );
    // A pointer over the diagram at the link's midpoint (canvas pixels to the page's).
    session.execute(
        "const c = document.getElementById('network');
         const r = c.getBoundingClientRect();
         const [x, y] = arguments;
         c.dispatchEvent(new MouseEvent('mousemove', { bubbles: true,
           clientX: r.left + x * r.width / c.width, clientY: r.top + y * r.height / c.height }));
         return null;",
        vec![x.into(), y.into()],
    )?;
    let card = "const e = document.getElementById('unit-card');
         return !e.hidden && e.textContent.startsWith('weight ')
           ? [e.textContent, e.dataset.weight || ''] : null;";
    let read = |what: &str| -> Result<(String, String), String> {
        let found = wait_script(session, what, card, REACT)?;
        Ok((str_at(&found, 0).to_string(), str_at(&found, 1).to_string()))
    };
    let (text, carried) = read("the hovered link's card")?;
    snap(session, out_dir, "edge-hover.png")?;
    let shown = number_after(&text, "weight ")
        .ok_or_else(|| format!("the card names no weight: {text:?}"))?;
    fail_if!(
        !three_digits(shown, weight) || carried.parse::<f64>().ok() != Some(weight),
        "the card {text:?} (data-weight {carried:?}) does not show the hovered link's weight {weight}"
    );
    fail_if!(
        !(text.contains(" from ") && text.contains(" to ")),
        "the card does not say what the link joins: {text:?}"
    );
    // One epoch of training under the pointer: the same link, a new weight.
    // Through the button's own click: a WebDriver click would move the pointer off the link.
    session.script("document.getElementById('step').click(); return null;")?;
    let script = format!(
        "const e = document.getElementById('unit-card');
         return !e.hidden && e.dataset.weight && e.dataset.weight !== '{carried}'
           ? [e.textContent, e.dataset.weight] : null;"
    );
    let after = wait_script(session, "the card's weight to change after a step", &script, REACT)?;
    let text_after = str_at(&after, 0);
    let weight_after: f64 = str_at(&after, 1).parse().unwrap_or(f64::NAN);
    let shown_after = number_after(text_after, "weight ").unwrap_or(f64::NAN);
    fail_if!(
        !three_digits(shown_after, weight_after),
        "after a step the card {text_after:?} does not show the weight it carries, {weight_after}"
    );
    // Where the words after the number name the same two nodes.
    let ends = |t: &str| t.split_once(" from ").map(|(_, r)| r.to_string());
    fail_if!(
        ends(&text) != ends(text_after),
        "the card moved to another link: {text:?}, then {text_after:?}"
    );
    session.script(
        "document.getElementById('network').dispatchEvent(new MouseEvent('mouseleave'));
         return null;",
    )?;
    wait_script(session, "the card to go when the pointer leaves", card_hidden, REACT)?;
    Ok(format!("at ({x:.0}, {y:.0}): {text:?}; after a step: {text_after:?}; gone on leaving"))
}

/// Reads both loss lines under the maps, their `data-*-loss`, and `#app`'s losses and epoch,
/// in one script (one frame's state).
fn read_losses(session: &Session) -> Result<Json, String> {
    session.script(
        "const app = document.getElementById('app');
         const line = (id, loss) => {
           const e = document.getElementById(id);
           return [e.textContent, e.dataset.testLoss, e.dataset.trainLoss, app.dataset[loss]];
         };
         const m = document.getElementById('main-loss').getBoundingClientRect();
         const c = document.getElementById('heatmap').getBoundingClientRect();
         return [line('main-loss', 'loss'), line('baseline-loss', 'baselineLoss'),
                 Number(app.dataset.epoch), m.top - c.bottom, m.left - c.left];",
    )
}

/// Both lines of [`read_losses`] checked with [`check_line`]: Firefly's and the baseline's text.
fn check_lines(losses: &Json) -> Result<(String, String), String> {
    Ok((check_line("Firefly", &losses[0])?, check_line("baseline", &losses[1])?))
}

/// One map's line checked against its own figures and `#app`'s: "Test loss T / Training loss
/// L" with T and L the test and training losses in three significant digits, and the training
/// loss the one `data-loss` (or `data-baseline-loss`) reports. Returns the text.
fn check_line(name: &str, line: &Json) -> Result<String, String> {
    // The page keeps each half on one line with no-break spaces; read them as spaces.
    let text = str_at(line, 0).replace('\u{a0}', " ");
    let (test, train, app) = (str_at(line, 1), str_at(line, 2), str_at(line, 3));
    let (test, train): (f64, f64) = match (test.parse(), train.parse()) {
        (Ok(t), Ok(l)) => (t, l),
        _ => return Err(format!("{name}: no losses on the line yet: {text:?}")),
    };
    let shown_test = number_after(&text, "Test loss ");
    let shown_train = number_after(&text, "Training loss ");
    let matches = shown_test.is_some_and(|s| three_digits(s, test))
        && shown_train.is_some_and(|s| three_digits(s, train));
    fail_if!(
        !matches || !text.starts_with("Test loss ") || !text.contains(" / Training loss "),
        "{name}: {text:?} does not print test loss {test} and training loss {train}"
    );
    fail_if!(
        app.parse::<f64>().ok() != Some(train),
        "{name}: the line's training loss {train} is not #app's {app:?}"
    );
    Ok(text)
}

/// `map-losses`: under each map a line "Test loss T / Training loss L" in significant digits
/// for that map's run, right under the map; L is the run's `data-loss` (the baseline's
/// `data-baseline-loss`); after 30 more epochs both lines have changed and still match, and
/// once a growth has set the runs apart each line still matches its own run's loss.
fn map_losses(session: &Session, base: &str) -> Result<String, String> {
    open_hash(session, base, "backend=cpu")?;
    wait_for(session, "both losses", secs(90), |a| {
        Ok(a.num("loss") > 0.0 && a.num("baseline-loss") > 0.0 && a.num("epoch") >= 2.0)
    })?;
    let first = read_losses(session)?;
    let (main, baseline) = check_lines(&first)?;
    let (epoch, below, left) = (num_at(&first, 2), num_at(&first, 3), num_at(&first, 4));
    fail_if!(
        !((-1.0..=12.0).contains(&below) && left.abs() <= 2.0),
        "the line is not right under the map: {below:.0} px below it, {left:.0} px across"
    );
    wait_for(session, "30 more epochs", secs(90), |a| Ok(a.num("epoch") >= epoch + 30.0))?;
    let (main_later, baseline_later) = check_lines(&read_losses(session)?)?;
    fail_if!(
        main_later == main || baseline_later == baseline,
        "the lines did not move in 30 epochs: {main:?} → {main_later:?}, {baseline:?} → {baseline_later:?}"
    );
    // Once the runs have grown apart, each line still follows its own run (not the other's).
    wait_for(session, "the runs to part after a growth", secs(90), |a| {
        Ok(a.num("growths") >= 1.0 && a.get("loss") != a.get("baseline-loss"))
    })?;
    let (main_apart, baseline_apart) = check_lines(&read_losses(session)?)?;
    Ok(format!(
        "epoch {epoch}: {main:?} | {baseline:?}; 30+ epochs later: {main_later:?} | {baseline_later:?}; grown apart: {main_apart:?} | {baseline_apart:?}"
    ))
}

/// The Points slider: its read-out, its value, whether it is disabled, and its label's
/// tooltip.
fn points_control(session: &Session) -> Result<(String, String, bool, String), String> {
    let value = session.script(
        "const i = document.getElementById('points');
         const o = document.getElementById('points-out');
         return [o.textContent, i.value, i.disabled, i.parentElement.title];",
    )?;
    let text = |i: usize| str_at(&value, i).to_string();
    let disabled = value.get(2).and_then(Json::as_bool).unwrap_or(false);
    Ok((text(0), text(1), disabled, text(3)))
}

/// The Points slider once its read-out is `reads`, or as it is after 5 s.
fn points_reading(
    session: &Session, reads: &str,
) -> Result<(String, String, bool, String), String> {
    let read = || points_control(session);
    poll_last(secs(5), read, |now| now.0 == reads)
}

/// `csv-points`: the Points slider reads the generator's 500 and can be moved; after a
/// 300-point CSV is uploaded it reads "300 (your data)", sits at 300 and is held (disabled,
/// its tooltip says how to get generated points back); clicking the selected data set brings
/// 500 generated points back and the slider with them.
fn csv_points(session: &Session, base: &str, out_dir: &Path) -> Result<String, String> {
    open_hash(session, base, "backend=cpu")?;
    wait_for(session, "running", secs(60), |a| {
        Ok(a.is("state", "running") && a.num("points") == 500.0)
    })?;
    let before = points_control(session)?;
    fail_if!(
        before.0 != "500" || before.2,
        "before the upload the slider should read 500 and move: {before:?}"
    );
    upload_csv(session, "three-hundred.csv", 300, 0, (4.0, 0.02))?;
    wait_for(session, "300 points loaded", REACT, |a| {
        Ok(a.num("points") == 300.0 && a.is("custom-data", "1"))
    })?;
    let held = points_reading(session, "300 (your data)")?;
    snap(session, out_dir, "csv-points.png")?;
    fail_if!(
        held.0 != "300 (your data)" || held.1 != "300" || !held.2,
        "after 300 points loaded the slider should read \"300 (your data)\", sit at 300 and be held: {held:?}"
    );
    fail_if!(
        !held.3.contains("Click a data set"),
        "the held slider's tooltip does not say how to get generated points back: {:?}",
        held.3
    );
    session.click("#datasets [aria-checked=\"true\"]")?;
    wait_for(session, "generated points back", REACT, |a| {
        Ok(a.num("points") == 500.0 && a.is("custom-data", "0"))
    })?;
    let after = points_reading(session, "500")?;
    fail_if!(
        after.0 != "500" || after.1 != "500" || after.2,
        "with generated points back the slider should read 500 and move again: {after:?}"
    );
    Ok(format!(
        "before {:?}; with 300 uploaded {:?} (disabled); data set clicked: {:?}",
        before.0, held.0, after.0
    ))
}

#[cfg(test)]
mod tests {
    use super::{number_after, three_digits};

    #[test]
    fn three_significant_digits_within_half_a_unit() {
        assert!(three_digits(0.713, 0.71321));
        assert!(three_digits(0.0980, 0.098));
        assert!(three_digits(-1.23e-5, -0.0000123));
        assert!(three_digits(2.5e-7, 2.5e-7));
        assert!(!three_digits(0.712, 0.71321));
        assert!(!three_digits(0.72, 0.71321));
        assert!(three_digits(0.0, 0.0));
    }

    #[test]
    fn numbers_are_read_after_their_words() {
        let line = "Test loss 0.123 / Training loss 1.3e-8";
        assert_eq!(number_after(line, "Test loss "), Some(0.123));
        assert_eq!(number_after(line, "Training loss "), Some(1.3e-8));
        assert_eq!(number_after("weight -0.5 from x", "weight "), Some(-0.5));
        assert_eq!(number_after("Test loss —", "Test loss "), None);
    }
}
