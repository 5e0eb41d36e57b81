//! SVG plots, drawn with plotters' SVG backend (no system fonts needed: text is emitted as
//! SVG `<text>`, which plotters escapes). Pure: a report in, (file name, SVG text) pairs out.

use super::{printable, Report, TrialReport};
use plotters::coord::Shift;
use plotters::prelude::*;

type Plot = (String, String);
const SIZE: (u32, u32) = (820, 520);
/// The grid: faint major lines, fainter minor ones, the same in every plot.
const GRID: RGBColor = RGBColor(220, 220, 220);
const LIGHT_GRID: RGBColor = RGBColor(245, 245, 245);
/// The one colour of single-series marks (points, bars), the confusion matrix's hue.
const ACCENT: RGBColor = RGBColor(55, 135, 255);
/// The colours of a band chart's lines, in order (Tableau 10: distinct, none too pale on white).
const LINE_COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// A chart's mesh in the one grid style of every plot.
macro_rules! styled_mesh {
    ($chart:expr) => {
        $chart.configure_mesh().light_line_style(LIGHT_GRID).bold_line_style(GRID)
    };
}

/// A tick label: whole numbers without `.0`, others with up to 4 significant digits.
fn tick(v: &f64) -> String {
    let v = *v;
    if v == 0.0 {
        return "0".into();
    }
    if v.fract() == 0.0 && v.abs() < 1e7 {
        return format!("{}", v as i64);
    }
    let rounded: f64 = format!("{v:.3e}").parse().unwrap_or(v);
    if rounded.abs() < 1e-3 || rounded.abs() >= 1e7 {
        format!("{rounded:e}")
    } else {
        rounded.to_string()
    }
}

/// A file-name-safe form of user text.
fn slug(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

fn svg(
    draw: impl for<'a, 'b> FnOnce(&'b DrawingArea<SVGBackend<'a>, Shift>) -> Result<(), Box<dyn std::error::Error + 'a>>,
) -> Option<String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, SIZE).into_drawing_area();
        root.fill(&WHITE).ok()?;
        draw(&root).ok()?;
        root.present().ok()?;
    }
    Some(buf)
}

/// Every plot the report has data for.
pub fn render_all(r: &Report) -> Vec<Plot> {
    let mut plots = Vec::new();
    for model in &super::markdown::model_names(r) {
        let trials: Vec<&TrialReport> = r.trials.iter().filter(|t| t.model == *model).collect();
        if let Some(p) = loss_curves(model, &trials) {
            plots.push((format!("loss_{}.svg", slug(model)), p));
        }
        let axes: Vec<&str> = trials[0].params.names().collect();
        for axis in &axes {
            if let Some(p) = metric_vs_param(r, model, &trials, axis) {
                // `.` cannot occur in a model name or an axis, so these names never collide.
                plots.push((format!("metric_{}.{}.svg", slug(model), slug(axis)), p));
            }
        }
    }
    if let Some(p) = predicted_vs_actual(r) {
        plots.push(("predicted_vs_actual.svg".into(), p));
    }
    if let Some(p) = confusion_matrix(r) {
        plots.push(("confusion_matrix.svg".into(), p));
    }
    if let Some(p) = permutation_importance(r) {
        plots.push(("permutation_importance.svg".into(), p));
    }
    if let Some(p) = learning_curve(r) {
        plots.push(("learning_curve.svg".into(), p));
    }
    for (i, f) in r.partial_dependence.iter().flat_map(|pd| pd.features.iter().map(move |f| (pd, f))).enumerate() {
        if let Some(p) = partial_dependence(f.0, f.1) {
            // Numbered: two feature names may have the same slug.
            plots.push((format!("partial_dependence_{}_{}.svg", i + 1, slug(&f.1.feature)), p));
        }
    }
    plots
}

/// The averaged prediction (or class probabilities) of the refitted best model as one input
/// feature sweeps its grid.
fn partial_dependence(
    pd: &crate::after_sweep::partial::PartialDependence,
    f: &crate::after_sweep::partial::FeatureDependence,
) -> Option<String> {
    let lines: Vec<Line> = f
        .curves
        .iter()
        .enumerate()
        .map(|(colour, c)| Line {
            name: c.class.as_ref().map_or("average prediction".to_string(), |k| format!("P({})", printable(k))),
            points: f.grid.iter().zip(&c.average).map(|(&x, &y)| (x, y, 0.0)).collect(),
            colour,
            dashed: false,
        })
        .collect();
    let feature = printable(&f.feature);
    let title = format!("partial dependence of {} on {feature}", pd.trial);
    band_chart(&title, &feature, &format!("average {}", printable(&pd.response)), &lines, f64::INFINITY)
}

fn label(t: &TrialReport) -> String {
    if t.params.is_empty() {
        t.id.clone()
    } else {
        t.params.0.iter().map(|(k, v)| format!("{k}={}", v.json())).collect::<Vec<_>>().join(", ")
    }
}

/// At most this many curves per loss plot (the grid's first), each of at most MAX_CURVE_POINTS.
const MAX_CURVES: usize = 20;
const MAX_CURVE_POINTS: usize = 500;

/// (epoch, loss) points of a curve, every k-th epoch (and the last) when it is long.
fn thinned(curve: &[f64]) -> Vec<(f64, f64)> {
    let step = curve.len().div_ceil(MAX_CURVE_POINTS).max(1);
    let mut points: Vec<(f64, f64)> =
        curve.iter().enumerate().step_by(step).map(|(e, &l)| (e as f64 + 1.0, l)).collect();
    if !(curve.len() - 1).is_multiple_of(step) {
        points.push((curve.len() as f64, curve[curve.len() - 1]));
    }
    points
}

fn loss_curves(model: &str, trials: &[&TrialReport]) -> Option<String> {
    // The first fold's training curve of the first MAX_CURVES grid points that have one.
    let curves: Vec<(String, Vec<f64>)> = trials
        .iter()
        .filter_map(|t| {
            let c = &t.loss_curve.as_ref()?.first()?.train;
            Some((label(t), c.clone()))
        })
        .filter(|(_, c)| !c.is_empty())
        .collect();
    let shown = if curves.len() > MAX_CURVES {
        format!(", the first {MAX_CURVES} of {} grid points", curves.len())
    } else {
        String::new()
    };
    let curves: Vec<(String, Vec<f64>)> = curves.into_iter().take(MAX_CURVES).collect();
    if curves.is_empty() {
        return None;
    }
    let epochs = curves.iter().map(|(_, c)| c.len()).max().unwrap_or(1) as f64;
    let lo = curves.iter().flat_map(|(_, c)| c.iter().copied()).fold(f64::INFINITY, f64::min);
    let hi = curves.iter().flat_map(|(_, c)| c.iter().copied()).fold(f64::NEG_INFINITY, f64::max);
    let log_y = lo > 0.0 && hi / lo > 10.0;
    let title = format!("{model}: training loss per epoch (fold 1{shown})");
    svg(|root| {
        let mut builder = ChartBuilder::on(root);
        builder.caption(&title, ("sans-serif", 20)).margin(15).x_label_area_size(45).y_label_area_size(80);
        macro_rules! draw {
            ($chart:expr, $y_desc:expr) => {{
                let mut chart = $chart;
                styled_mesh!(chart)
                    .x_label_formatter(&tick)
                    .y_label_formatter(&tick)
                    .x_desc("epoch")
                    .y_desc($y_desc)
                    .draw()?;
                for (i, (name, c)) in curves.iter().enumerate() {
                    let color = Palette99::pick(i).to_rgba();
                    chart
                        .draw_series(LineSeries::new(thinned(c), color.stroke_width(2)))?
                        .label(name.clone())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
                }
                chart.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw()?;
            }};
        }
        let x_range = 1f64..epochs.max(2.0);
        if log_y {
            draw!(builder.build_cartesian_2d(x_range, (lo * 0.9..hi * 1.1).log_scale())?, "loss (log scale)");
        } else {
            let pad = (hi - lo).abs().max(1e-12) * 0.05;
            draw!(builder.build_cartesian_2d(x_range, (lo - pad)..(hi + pad))?, "loss");
        }
        Ok(())
    })
}

/// One line of a band chart: its legend, (x, mean, std) points, colour (a palette index)
/// and whether it is dashed (a training score, drawn without its band).
struct Line {
    name: String,
    points: Vec<(f64, f64, f64)>,
    colour: usize,
    dashed: bool,
}

/// Test-score lines per setting of the other axes (the first MAX_CURVES / 2), each with its
/// training score as a dashed line of the same colour: over- and underfitting at a glance.
fn metric_vs_param(r: &Report, model: &str, trials: &[&TrialReport], axis: &str) -> Option<String> {
    let m = r.rank_by;
    type Points = Vec<(f64, f64, f64)>;
    let mut groups: Vec<(String, Points, Points)> = Vec::new();
    let mut more = false;
    for t in trials {
        let x = t.params.get(axis)?.as_f64()?;
        let (Some(mean), Some(std)) = (t.test.mean(m), t.test.std(m)) else { continue };
        let train = t.train.mean(m).zip(t.train.std(m)).map(|(mean, std)| (x, mean, std));
        let rest: Vec<String> =
            t.params.0.iter().filter(|(k, _)| k != axis).map(|(k, v)| format!("{k}={}", v.json())).collect();
        let key = rest.join(", ");
        // Each setting draws two lines (test and train).
        let full = groups.len() == MAX_CURVES / 2;
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, pts, train_pts)) => {
                pts.push((x, mean, std));
                train_pts.extend(train);
            }
            // A big grid: the first settings only, so the plot stays small.
            None if full => more = true,
            None => groups.push((key, vec![(x, mean, std)], train.into_iter().collect())),
        }
    }
    let mut lines = Vec::new();
    for (colour, (key, test, train)) in groups.into_iter().enumerate() {
        let name = |side: &str| if key.is_empty() { format!("{side} {}", m.name()) } else { format!("{side}, {key}") };
        lines.push(Line { name: name("test"), points: thinned_points(test), colour, dashed: false });
        if !train.is_empty() {
            lines.push(Line { name: name("train"), points: thinned_points(train), colour, dashed: true });
        }
    }
    let shown = if more { format!(", the first {} settings of the other axes", MAX_CURVES / 2) } else { String::new() };
    let sides = if lines.iter().any(|l| l.dashed) { "test (solid) and train (dashed)" } else { "test" };
    let title = format!("{model}: {sides} {} against {axis} (mean ± std over folds{shown})", m.name());
    // Errors of an overfitted grid span decades: a log scale from one decade keeps the
    // bottom of the U readable.
    band_chart(&title, axis, m.name(), &lines, 10.0)
}

/// Points in x order, every k-th when there are more than MAX_CURVE_POINTS.
fn thinned_points(mut pts: Vec<(f64, f64, f64)>) -> Vec<(f64, f64, f64)> {
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let step = pts.len().div_ceil(MAX_CURVE_POINTS).max(1);
    pts.into_iter().step_by(step).collect()
}

/// Lines of (x, mean, std) points, each with its ± std band; the x axis is on a log scale
/// when its values are positive and span two decades or more, the y axis when its means are
/// positive and the largest is `log_ratio` times the smallest or more (a band then stops
/// above zero). A band reaches at most a quarter of the means' span (half the smallest mean
/// and twice the largest on a log scale) beyond them, so one wild trial cannot flatten the rest.
fn band_chart(title: &str, x_desc: &str, y_desc: &str, lines: &[Line], log_ratio: f64) -> Option<String> {
    let lines: Vec<&Line> = lines.iter().filter(|l| !l.points.is_empty()).collect();
    let points = || lines.iter().flat_map(|l| l.points.iter());
    let (xlo, xhi) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.0), hi.max(p.0)));
    let (mlo, mhi) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let log_x = xlo > 0.0 && xhi / xlo >= 100.0;
    let log_y = mlo > 0.0 && mhi / mlo >= log_ratio;
    let margin = (mhi - mlo).abs() * 0.25;
    let (floor, ceiling) = if log_y { (mlo / 2.0, mhi * 2.0) } else { (mlo - margin, mhi + margin) };
    // Each line with its (x, mean, band low, band high) points.
    type Banded<'l> = Vec<(&'l Line, Vec<(f64, f64, f64, f64)>)>;
    let bands: Banded<'_> = lines
        .iter()
        .map(|l| (*l, l.points.iter().map(|q| (q.0, q.1, (q.1 - q.2).max(floor), (q.1 + q.2).min(ceiling))).collect()))
        .collect();
    let ylo = bands.iter().flat_map(|(_, p)| p.iter().map(|q| q.2)).fold(f64::INFINITY, f64::min);
    let yhi = bands.iter().flat_map(|(_, p)| p.iter().map(|q| q.3)).fold(f64::NEG_INFINITY, f64::max);
    if !(xlo.is_finite() && ylo.is_finite() && yhi.is_finite()) {
        return None;
    }
    let (y0, y1) = if log_y {
        (ylo / 1.2, yhi * 1.2)
    } else {
        (ylo - (yhi - ylo).abs().max(1e-12) * 0.08, yhi + (yhi - ylo).abs().max(1e-12) * 0.08)
    };
    // The legend goes in an upper corner no line ends in (the right one when both are free).
    let high = |y: f64| {
        let (a, b, v) = if log_y { (y0.ln(), y1.ln(), y.ln()) } else { (y0, y1, y) };
        (v - a) / (b - a) > 0.7
    };
    let right_taken = lines.iter().any(|l| l.points.last().is_some_and(|q| high(q.1)));
    let left_taken = lines.iter().any(|l| l.points.first().is_some_and(|q| high(q.1)));
    let legend_corner =
        if right_taken && !left_taken { SeriesLabelPosition::UpperLeft } else { SeriesLabelPosition::UpperRight };
    let scaled = |desc: &str, log: bool| if log { format!("{desc} (log scale)") } else { desc.to_string() };
    // A whole-number axis (max_depth, epochs) gets no fractional ticks.
    let whole = points().all(|q| q.0.fract() == 0.0);
    let x_tick = move |v: &f64| if whole && v.fract() != 0.0 { String::new() } else { tick(v) };
    svg(|root| {
        let mut builder = ChartBuilder::on(root);
        builder.caption(title, ("sans-serif", 20)).margin(15).x_label_area_size(45).y_label_area_size(80);
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                styled_mesh!(chart)
                    .x_label_formatter(&x_tick)
                    .y_label_formatter(&tick)
                    .x_desc(scaled(x_desc, log_x))
                    .y_desc(scaled(y_desc, log_y))
                    .draw()?;
                for (line, pts) in &bands {
                    draw_line(&mut chart, line, pts)?;
                }
                chart
                    .configure_series_labels()
                    .position(legend_corner)
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .draw()?;
            }};
        }
        let (x0, x1) = if xhi > xlo { (xlo, xhi) } else { (xlo - 0.5, xhi + 0.5) };
        match (log_x, log_y) {
            (true, true) => draw!(builder.build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?),
            (true, false) => draw!(builder.build_cartesian_2d((x0..x1).log_scale(), y0..y1)?),
            (false, true) => draw!(builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale())?),
            (false, false) => draw!(builder.build_cartesian_2d(x0..x1, y0..y1)?),
        }
        Ok(())
    })
}

/// One line of a band chart with its legend entry: solid with its ± std band, or dashed.
fn draw_line<'a, DB: DrawingBackend + 'a, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    line: &Line,
    pts: &[(f64, f64, f64, f64)],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let color = LINE_COLOURS[line.colour % LINE_COLOURS.len()].to_rgba();
    let xy = pts.iter().map(|p| (p.0, p.1));
    if line.dashed {
        chart.draw_series(DashedLineSeries::new(xy, 8, 5, color.stroke_width(2)))?.label(line.name.clone()).legend(
            move |(x, y)| {
                // A composed element's parts are placed relative to its anchor.
                let dash = |a: i32, b: i32| PathElement::new(vec![(a, 0), (b, 0)], color.stroke_width(2));
                EmptyElement::at((x, y)) + dash(0, 7) + dash(13, 20)
            },
        );
        chart.draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 3, color.stroke_width(1))))?;
        return Ok(());
    }
    let mut band: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.3)).collect();
    band.extend(pts.iter().rev().map(|p| (p.0, p.2)));
    chart.draw_series(std::iter::once(Polygon::new(band, color.mix(0.2).filled())))?;
    chart
        .draw_series(LineSeries::new(xy, color.stroke_width(2)))?
        .label(line.name.clone())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    chart.draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 3, color.filled())))?;
    Ok(())
}

/// The best trial's train and test metric against training rows (`[report] learning_curve`).
fn learning_curve(r: &Report) -> Option<String> {
    let lc = r.learning_curve.as_ref()?;
    let line = |name: &str, side: &[super::Summary]| {
        let pts: Vec<(f64, f64, f64)> =
            lc.sizes.iter().zip(side).filter_map(|(&n, s)| Some((n as f64, s.mean?, s.std?))).collect();
        (name.to_string(), pts)
    };
    let lines: Vec<Line> = [line("train", &lc.train), line("test", &lc.test)]
        .into_iter()
        .enumerate()
        .map(|(colour, (name, points))| Line { name, points, colour, dashed: false })
        .collect();
    let metric = lc.metric.name();
    let title = format!("learning curve of {}: {metric} (mean ± std over folds)", lc.trial);
    band_chart(&title, "training rows", metric, &lines, 100.0)
}

/// Above this many test rows the scatter becomes a 2-D histogram, so the SVG stays small.
const MAX_POINTS: usize = 2000;
/// Bins per axis of that histogram.
const BINS: usize = 60;

fn predicted_vs_actual(r: &Report) -> Option<String> {
    let e = r.explanation.as_ref()?;
    let predictions = e.actual_and_predicted();
    if predictions.is_empty() {
        return None;
    }
    let lo = predictions.iter().flat_map(|p| [p.0, p.1]).fold(f64::INFINITY, f64::min);
    let hi = predictions.iter().flat_map(|p| [p.0, p.1]).fold(f64::NEG_INFINITY, f64::max);
    let pad = (hi - lo).abs().max(1e-12) * 0.05;
    let (from, to) = (lo - pad, hi + pad);
    let binned = predictions.len() > MAX_POINTS;
    let title = if binned {
        format!("{}: predicted against actual {} ({} test rows, binned)", e.trial, r.dataset.target, predictions.len())
    } else {
        format!("{}: predicted against actual {} (test rows)", e.trial, r.dataset.target)
    };
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(80)
            .build_cartesian_2d(from..to, from..to)?;
        styled_mesh!(chart)
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .x_desc(format!("actual {}", r.dataset.target))
            .y_desc("predicted")
            .draw()?;
        chart
            .draw_series(LineSeries::new([(from, from), (to, to)], BLACK.mix(0.6).stroke_width(1)))?
            .label("predicted = actual")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        if binned {
            let cells = histogram(&predictions, from, to);
            let max = cells.iter().map(|c| c.2).max().unwrap_or(1) as f64;
            let width = (to - from) / BINS as f64;
            chart
                .draw_series(cells.iter().map(|&(i, j, count)| {
                    // Darker is more rows, on a log scale so single rows stay visible.
                    let shade = 0.15 + 0.85 * (1.0 + count as f64).ln() / (1.0 + max).ln();
                    let (x, y) = (from + i as f64 * width, from + j as f64 * width);
                    Rectangle::new([(x, y), (x + width, y + width)], ACCENT.mix(shade).filled())
                }))?
                .label("test rows per cell (darker: more)")
                .legend(|(x, y)| Rectangle::new([(x + 5, y - 4), (x + 13, y + 4)], ACCENT.filled()));
        } else {
            chart
                .draw_series(predictions.iter().map(|&(a, p)| Circle::new((a, p), 3, ACCENT.mix(0.5).filled())))?
                .label("test rows")
                .legend(|(x, y)| Circle::new((x + 10, y), 3, ACCENT.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

/// The non-empty cells of a BINS × BINS grid over `[from, to]²`: (column, row, rows in it).
fn histogram(points: &[(f64, f64)], from: f64, to: f64) -> Vec<(usize, usize, usize)> {
    let cell = |v: f64| (((v - from) / (to - from) * BINS as f64) as usize).min(BINS - 1);
    let mut counts = vec![0usize; BINS * BINS];
    for &(a, p) in points {
        counts[cell(a) * BINS + cell(p)] += 1;
    }
    counts.iter().enumerate().filter(|(_, &c)| c > 0).map(|(k, &c)| (k / BINS, k % BINS, c)).collect()
}

fn confusion_matrix(r: &Report) -> Option<String> {
    let best = r.best.as_ref()?;
    let t = r.trials.iter().find(|t| t.id == best.trial)?;
    let cm = t.confusion_matrix.as_ref()?;
    let classes: Vec<String> = r.dataset.classes.as_ref()?.iter().map(|c| printable(&c.class).into_owned()).collect();
    let n = classes.len();
    let max = cm.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    let title = format!("{}: confusion matrix (test rows, all folds)", best.trial);
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(120)
            .build_cartesian_2d(0f64..n as f64, 0f64..n as f64)?;
        let name = |v: &f64| classes.get(v.floor() as usize).cloned().unwrap_or_default();
        let flipped = |v: &f64| classes.get(n - 1 - (v.floor() as usize).min(n - 1)).cloned().unwrap_or_default();
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(n * 2 + 1)
            .y_labels(n * 2 + 1)
            .x_label_formatter(&|v| if v.fract() == 0.5 { name(v) } else { String::new() })
            .y_label_formatter(&|v| if v.fract() == 0.5 { flipped(v) } else { String::new() })
            .x_desc("predicted")
            .y_desc("true")
            .draw()?;
        for (i, row) in cm.iter().enumerate() {
            for (j, &count) in row.iter().enumerate() {
                let y = (n - 1 - i) as f64;
                let shade = count as f64 / max;
                let fill = RGBColor(255 - (200.0 * shade) as u8, 255 - (120.0 * shade) as u8, 255);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(j as f64, y), (j as f64 + 1.0, y + 1.0)],
                    fill.filled(),
                )))?;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(j as f64, y), (j as f64 + 1.0, y + 1.0)],
                    BLACK.mix(0.3),
                )))?;
                let style = ("sans-serif", 22).into_font().color(&BLACK).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Center,
                ));
                chart.draw_series(std::iter::once(Text::new(count.to_string(), (j as f64 + 0.5, y + 0.5), style)))?;
            }
        }
        Ok(())
    })
}

fn permutation_importance(r: &Report) -> Option<String> {
    let e = r.explanation.as_ref()?;
    let rows: Vec<_> = e.permutation_importance.iter().take(25).collect();
    if rows.is_empty() {
        return None;
    }
    let n = rows.len();
    let lo = rows.iter().map(|f| (f.mean - f.std).min(0.0)).fold(0.0, f64::min);
    let hi = rows.iter().map(|f| f.mean + f.std).fold(0.0, f64::max).max(lo + 1e-12);
    let pad = (hi - lo) * 0.05;
    let title =
        format!("{}: permutation importance (how much test {} worsens when shuffled)", e.trial, e.metric.name());
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(170)
            .build_cartesian_2d((lo - pad)..(hi + pad), 0f64..n as f64)?;
        let name = |v: &f64| {
            rows.get(n - 1 - (v.floor() as usize).min(n - 1))
                .map(|f| printable(&f.feature).into_owned())
                .unwrap_or_default()
        };
        styled_mesh!(chart)
            .disable_y_mesh()
            .x_label_formatter(&tick)
            .y_labels(n * 2 + 1)
            .y_label_formatter(&|v| if v.fract() == 0.5 { name(v) } else { String::new() })
            .x_desc(format!(
                "mean increase in test {} when shuffled (± std, {} repeats × folds)",
                e.metric.name(),
                e.repeats
            ))
            .draw()?;
        for (i, f) in rows.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y + 0.15), (f.mean, y + 0.85)],
                ACCENT.mix(0.7).filled(),
            )))?;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(f.mean - f.std, y + 0.5), (f.mean + f.std, y + 0.5)],
                BLACK.stroke_width(2),
            )))?;
        }
        Ok(())
    })
}
