//! The chart of `cranebpf bench`: run time of every engine relative to
//! native, one row per workload and ISA level, on a logarithmic axis. Plain
//! SVG written by hand (text, lines and circles): no drawing library, no
//! fonts or system libraries needed to produce it.

use crate::engines::{engines, EngineSpec, Kind};
use crate::timing::{native_ns, shown_name, Cell};
use std::fmt::Write;

/// Colours of the non-native engines, in [`engines`] order.
const COLOURS: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The SVG document for `cells`, titled `title`.
pub fn svg(cells: &[Cell], title: &str) -> String {
    let engs: Vec<&EngineSpec> = engines().filter(|e| e.kind != Kind::Native).collect();
    let mut rows: Vec<(&str, crate::c_workloads::Cpu)> = Vec::new();
    for c in cells {
        if !rows.contains(&(c.workload, c.cpu)) {
            rows.push((c.workload, c.cpu));
        }
    }
    // Axis: 10^lo .. 10^hi times native, widened to the data.
    let ratios: Vec<f64> = cells
        .iter()
        .filter(|c| c.engine.kind != Kind::Native)
        .filter_map(|c| Some(c.result.as_ref().ok()?.median_ns / native_ns(cells, c)?))
        .filter(|r| r.is_finite() && *r > 0.0)
        .collect();
    let lo = ratios
        .iter()
        .fold(0.0f64, |a, r| a.min(r.log10().floor()))
        .max(-3.0);
    let hi = ratios
        .iter()
        .fold(1.0f64, |a, r| a.max(r.log10().ceil()))
        .min(6.0);
    let (left, right, top, row_h) = (150.0, 30.0, 70.0, 18.0);
    let plot_w = 640.0;
    let width = left + plot_w + right;
    let legend_h = 20.0 * engs.len().div_ceil(3) as f64 + 30.0;
    let height = top + row_h * rows.len() as f64 + 40.0 + legend_h;
    let x = |r: f64| left + (r.log10() - lo) / (hi - lo) * plot_w;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" font-size="14" text-anchor="middle">{}</text>"#,
        width / 2.0,
        esc(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="{}" y="40" text-anchor="middle" fill="#444">run time per call ÷ native (log scale; left of 1× is faster than native)</text>"##,
        width / 2.0
    );
    let bottom = top + row_h * rows.len() as f64;
    // Row stripes, under the grid.
    for i in (0..rows.len()).step_by(2) {
        let _ = writeln!(
            s,
            r##"<rect x="{left}" y="{:.1}" width="{plot_w}" height="{row_h}" fill="#f4f4f4"/>"##,
            top + row_h * i as f64
        );
    }
    // Grid: decades, and 2× / 5× between them.
    let mut d = lo as i32;
    while d <= hi as i32 {
        for m in [1.0, 2.0, 5.0] {
            let r = m * 10f64.powi(d);
            if r.log10() > hi + 1e-9 {
                break;
            }
            let xx = x(r);
            let (stroke, w) = if m == 1.0 {
                ("#999", 1.0)
            } else {
                ("#ddd", 0.5)
            };
            let _ = writeln!(
                s,
                r#"<line x1="{xx:.1}" y1="{top}" x2="{xx:.1}" y2="{bottom}" stroke="{stroke}" stroke-width="{w}"/>"#
            );
            if m == 1.0 || hi - lo <= 3.0 {
                let label = if r >= 1.0 {
                    format!("{r:.0}×")
                } else {
                    format!("{r}×")
                };
                let _ = writeln!(
                    s,
                    r##"<text x="{xx:.1}" y="{}" text-anchor="middle" fill="#444">{label}</text>"##,
                    bottom + 14.0
                );
            }
        }
        d += 1;
    }
    let one = x(1.0);
    let _ = writeln!(
        s,
        r#"<line x1="{one:.1}" y1="{top}" x2="{one:.1}" y2="{bottom}" stroke="black" stroke-width="1.5"/>"#
    );
    for (i, (w, cpu)) in rows.iter().enumerate() {
        let y = top + row_h * (i as f64 + 0.5);
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}-{}</text>"#,
            left - 6.0,
            y + 4.0,
            esc(w),
            cpu.name()
        );
        for (j, e) in engs.iter().enumerate() {
            let Some(c) = cells
                .iter()
                .find(|c| c.workload == *w && c.cpu == *cpu && std::ptr::eq(c.engine, *e))
            else {
                continue;
            };
            let (Ok(m), Some(n)) = (&c.result, native_ns(cells, c)) else {
                continue;
            };
            let r = (m.median_ns / n).clamp(10f64.powf(lo), 10f64.powf(hi));
            let col = COLOURS[j % COLOURS.len()];
            let fill = if e.unchecked { "white" } else { col };
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{y:.1}" r="4" fill="{fill}" stroke="{col}" stroke-width="1.5"><title>{} {}-{}: {:.2}× native</title></circle>"#,
                x(r),
                esc(e.name),
                esc(w),
                cpu.name(),
                m.median_ns / n
            );
        }
    }
    // Legend.
    let ly = bottom + 36.0;
    for (j, e) in engs.iter().enumerate() {
        let lx = left + (j % 3) as f64 * 220.0;
        let yy = ly + (j / 3) as f64 * 20.0;
        let col = COLOURS[j % COLOURS.len()];
        let fill = if e.unchecked { "white" } else { col };
        let _ = writeln!(
            s,
            r#"<circle cx="{lx:.1}" cy="{yy:.1}" r="4" fill="{fill}" stroke="{col}" stroke-width="1.5"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            lx + 9.0,
            yy + 4.0,
            esc(&shown_name(e))
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{left}" y="{:.1}" fill="#444">hollow / †: no memory safety checks</text>"##,
        ly + 20.0 * engs.len().div_ceil(3) as f64 + 4.0
    );
    s.push_str("</svg>\n");
    s
}
