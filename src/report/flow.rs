//! The patient flow diagram of the report (STROBE/RECORD style), as an SVG document: rows read,
//! rows rejected with their reasons, patients accepted, then each analysis's population with
//! the patients it leaves out by reason. Drawn from the disclosed results and the run's
//! rejection counts only; text is wrapped, never cut; the same input gives the same bytes.

use std::fmt::Write;

use super::run::RunIdentity;
use crate::analysis::model::{Count, RunSummary};

/// Box width of an analysis, px.
const BOX: f64 = 300.0;
/// Gap between boxes, px.
const GAP: f64 = 24.0;
/// Line height, px (12 px text).
const LINE: f64 = 16.0;
/// Characters per line in a box (DejaVu/sans-serif at 12 px averages under 7 px a character).
const CHARS: usize = 40;
/// Analyses per row.
const COLUMNS: usize = 3;

/// `text` wrapped at word boundaries into lines of at most `width` characters (a longer word
/// keeps its own line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A box of lines (the first `bold` of them in bold: its title) at (x, y), `w` wide; returns
/// its height.
fn text_box(
    svg: &mut String,
    (x, y, w): (f64, f64, f64),
    lines: &[String],
    bold: usize,
    fill: &str,
) -> f64 {
    let h = 12.0 + LINE * lines.len() as f64;
    let _ = writeln!(
        svg,
        r##"<rect x="{x:.0}" y="{y:.0}" width="{w:.0}" height="{h:.0}" rx="4" fill="{fill}" stroke="#555"/>"##
    );
    for (k, line) in lines.iter().enumerate() {
        let weight = if k < bold {
            r#" font-weight="bold""#
        } else {
            ""
        };
        let _ = writeln!(
            svg,
            r#"<text x="{:.0}" y="{:.0}"{weight}>{}</text>"#,
            x + 8.0,
            y + 6.0 + LINE * (k as f64 + 0.8),
            escape(line)
        );
    }
    h
}

/// A line from one point to another with its head drawn at the end (a triangle of its own:
/// no marker, so nothing in the SVG refers elsewhere).
fn arrow(svg: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64)) {
    let (dx, dy) = (x2 - x1, y2 - y1);
    let length = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / length, dy / length);
    let (bx, by) = (x2 - 8.0 * ux, y2 - 8.0 * uy);
    let _ = writeln!(
        svg,
        r##"<line x1="{x1:.0}" y1="{y1:.0}" x2="{bx:.0}" y2="{by:.0}" stroke="#555" stroke-width="1.5"/>"##
    );
    let _ = writeln!(
        svg,
        r##"<path d="M{x2:.1},{y2:.1} L{:.1},{:.1} L{:.1},{:.1} z" fill="#555"/>"##,
        bx - 4.0 * uy,
        by + 4.0 * ux,
        bx + 4.0 * uy,
        by - 4.0 * ux
    );
}

/// Thousands separated: 5,000.
pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (k, ch) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A count as shown, thousands separated (a hidden one by its marker).
pub(super) fn count(c: &Count) -> String {
    match c {
        Count::Shown(n) => thousands(*n),
        other => other.to_string(),
    }
}

/// The diagram.
pub fn flow_svg(s: &RunSummary, identity: &RunIdentity) -> String {
    let width = COLUMNS as f64 * BOX + (COLUMNS as f64 - 1.0) * GAP + 2.0 * GAP;
    let mut body = String::new();
    // The input: one box per table read, the rejections beside the patients' arrow.
    let patients = s.cohort.tables.iter().find(|t| t.table == "patients");
    let mut read_lines = vec!["Rows read".to_string()];
    for t in &s.cohort.tables {
        read_lines.push(format!("{}: {}", t.table, thousands(t.read)));
    }
    let left = GAP;
    let mut y = GAP;
    let h = text_box(&mut body, (left, y, BOX), &read_lines, 1, "#f4f4f4");
    let arrow_x = left + BOX / 2.0;
    let top_of_arrow = y + h;
    // The rejected rows, by table and reason.
    let mut rejected_lines = vec!["Rows rejected (input contract)".to_string()];
    for t in &s.cohort.tables {
        rejected_lines.push(format!("{}: {}", t.table, thousands(t.rejected)));
        for (table, reason, rows) in identity.rejections.iter().filter(|r| r.0 == t.table) {
            let _ = table;
            for line in wrap(&format!("– {reason}: {}", thousands(*rows)), CHARS - 2) {
                rejected_lines.push(format!("  {line}"));
            }
        }
    }
    let side_x = left + BOX + 2.0 * GAP;
    let side_y = top_of_arrow + GAP / 2.0;
    let side_h = text_box(
        &mut body,
        (side_x, side_y, BOX + GAP),
        &rejected_lines,
        1,
        "#fff4e5",
    );
    let accepted_y = side_y + side_h + GAP / 2.0;
    arrow(&mut body, (arrow_x, top_of_arrow), (arrow_x, accepted_y));
    arrow(
        &mut body,
        (arrow_x, side_y + side_h / 2.0),
        (side_x, side_y + side_h / 2.0),
    );
    let accepted_lines = vec![
        "Patients accepted".to_string(),
        format!(
            "{} patients{}",
            count(&s.cohort.patients),
            patients.map_or(String::new(), |t| format!(
                " ({} of {} rows)",
                thousands(t.accepted),
                thousands(t.read)
            ))
        ),
        format!("{} deaths during follow-up", count(&s.cohort.deaths)),
    ];
    let accepted_h = text_box(
        &mut body,
        (left, accepted_y, BOX),
        &accepted_lines,
        1,
        "#e8f1fa",
    );
    y = accepted_y + accepted_h;
    // The analyses: their populations and exclusions, in rows of three.
    let rows_top = y + 2.0 * GAP;
    let _ = writeln!(
        body,
        r##"<line x1="{arrow_x:.0}" y1="{y:.0}" x2="{arrow_x:.0}" y2="{:.0}" stroke="#555" stroke-width="1.5"/>"##,
        y + GAP
    );
    let _ = writeln!(
        body,
        r##"<line x1="{:.0}" y1="{:.0}" x2="{:.0}" y2="{:.0}" stroke="#555" stroke-width="1.5"/>"##,
        left + BOX / 2.0,
        y + GAP,
        left + (COLUMNS as f64 - 1.0) * (BOX + GAP) + BOX / 2.0,
        y + GAP
    );
    let boxes: Vec<(Vec<String>, usize)> = s
        .analyses
        .iter()
        .map(|a| {
            let mut lines = wrap(&format!("{}. {}", a.declared.id, a.declared.title), CHARS);
            let title_lines = lines.len();
            lines.extend(wrap(a.declared.population, CHARS));
            lines.push(format!("n = {}", count(&a.n)));
            for e in &a.excluded {
                for (k, line) in wrap(
                    &format!("excluded, {}: {}", e.reason, count(&e.n)),
                    CHARS - 2,
                )
                .into_iter()
                .enumerate()
                {
                    lines.push(if k == 0 { line } else { format!("  {line}") });
                }
            }
            (lines, title_lines)
        })
        .collect();
    let mut row_y = rows_top;
    for chunk in boxes.chunks(COLUMNS) {
        let height = chunk
            .iter()
            .map(|(b, _)| 12.0 + LINE * b.len() as f64)
            .fold(0.0, f64::max);
        for (k, (lines, bold)) in chunk.iter().enumerate() {
            let x = left + k as f64 * (BOX + GAP);
            if row_y == rows_top {
                arrow(&mut body, (x + BOX / 2.0, y + GAP), (x + BOX / 2.0, row_y));
            }
            text_box(&mut body, (x, row_y, BOX), lines, *bold, "#ffffff");
        }
        row_y += height + GAP;
    }
    let height = row_y;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#222">"##
    );
    svg.push_str(&body);
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_at_words_and_never_drops_one() {
        let lines = wrap("patients with bone metastases at diagnosis, all stages", 16);
        assert_eq!(
            lines,
            [
                "patients with",
                "bone metastases",
                "at diagnosis,",
                "all stages"
            ]
        );
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            ["averyveryverylongword", "x"]
        );
        assert!(wrap("", 10).is_empty());
    }
}
