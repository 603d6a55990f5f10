//! Experiment: a slice of the test set, budgets, strategies and seeds; the sweep runs in a
//! worker of its own (`sweep_runner`), the chart and the table fill in as each (seed,
//! problem) finishes, every finished unit is stored in the browser, and the link carries
//! the spec, so a reload resumes and a shared link shows the same sweep.
//!
//! The rows are `ponder sweep`'s for the same spec (both run `ponder_core::sweep`), and
//! the chart is drawn by the same code as its `accuracy.svg`.

use leptos::prelude::*;
use ponder_core::chart::{bar_chart, line_chart, line_chart_on, Bars, Point, Series, XScale};
use ponder_core::progress;
use ponder_core::spec::StrategyKind;
use ponder_core::stats::Interval;
use ponder_core::sweep::{
    baseline, by_difficulty, by_revision_step, compute_optimal, exchange, mix_ratio,
    parse_settings, rows_csv, summarise, versus, Exchange, SummaryRow, SweepSpec, UnitResult, BINS,
    PAGE_MAX_BUDGET,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::problem_bank;
use crate::router::Router;
use crate::sweep_runner::{SweepRunner, SweepStatus};

/// The keys of a sweep's link text.
const SWEEP_KEYS: [&str; 9] = [
    "set",
    "levels",
    "per_level",
    "budgets",
    "strategies",
    "seeds",
    "ratios",
    "large",
    "settings",
];

/// The values of R (inference tokens over pretraining tokens) the exchange's slider
/// offers, the paper's three (0.16, 0.79, 22) among them.
const EXCHANGE_RATIOS: [f64; 11] = [0.1, 0.16, 0.25, 0.5, 0.79, 1.0, 2.0, 5.0, 10.0, 22.0, 50.0];

/// The sequential:parallel ratios the page offers for the mix (the paper's Fig. 7 spans
/// 1/16 to 16; here its powers of four).
const OFFERED_RATIOS: [f64; 5] = [0.0625, 0.25, 1.0, 4.0, 16.0];

/// What the page offers before anything is chosen: small enough to finish in minutes on
/// one CPU thread.
fn page_default() -> SweepSpec {
    SweepSpec {
        per_level: 2,
        budgets: vec![1, 4, 16],
        strategies: vec![
            StrategyKind::Majority,
            StrategyKind::BestOfN,
            StrategyKind::Beam,
            StrategyKind::Revisions,
        ],
        seeds: vec![1, 2],
        ..SweepSpec::default()
    }
}

/// The budgets the page offers: powers of two up to 256.
fn offered_budgets() -> Vec<u32> {
    (0..=PAGE_MAX_BUDGET.ilog2()).map(|i| 1u32 << i).collect()
}

/// The link's sweep: its spec, and a note when the link's spec could not be read.
fn linked_spec(router: &Router) -> (SweepSpec, Option<String>) {
    let state = router.state.get_untracked();
    if !SWEEP_KEYS.iter().any(|k| state.get(k).is_some()) {
        return (page_default(), None);
    }
    let query: Vec<String> = SWEEP_KEYS
        .iter()
        .filter_map(|k| state.get(k).map(|v| format!("{k}={v}")))
        .collect();
    match SweepSpec::from_query(&query.join("&")) {
        Ok(spec) if spec.budgets.iter().all(|&b| b <= PAGE_MAX_BUDGET) => (spec, None),
        Ok(_) => (
            page_default(),
            Some(format!("This link's budgets go past {PAGE_MAX_BUDGET}, the page's largest; run it with `ponder sweep`.")),
        ),
        Err(e) => (page_default(), Some(format!("This link's sweep cannot be read: {e}."))),
    }
}

/// The spec as the page's query keys.
fn set_link(router: &Router, spec: &SweepSpec) {
    let mut state = router.state.get_untracked();
    for pair in spec.to_query().split('&') {
        if let Some((k, v)) = pair.split_once('=') {
            state.set(k, Some(v));
        }
    }
    router.replace(state);
}

/// Accuracy against budget over all levels, one line per strategy over its 95% interval
/// (bootstrap over problems, seeds drawn together).
fn chart_svg(spec: &SweepSpec, summary: &[SummaryRow]) -> String {
    let series: Vec<Series> = spec
        .labels()
        .into_iter()
        .map(|name| Series {
            points: summary
                .iter()
                .filter(|s| s.level == "all" && s.strategy == name)
                .map(|s| {
                    Point::interval(
                        f64::from(s.budget),
                        s.mean_accuracy,
                        Interval {
                            low: s.ci_low,
                            high: s.ci_high,
                        },
                    )
                })
                .collect(),
            name,
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    line_chart(
        &format!(
            "Accuracy against budget ({} seed{})",
            spec.seeds.len(),
            if spec.seeds.len() == 1 { "" } else { "s" }
        ),
        "budget (generations, log scale)",
        "problems solved (%)",
        &series,
    )
}

/// Accuracy against the mix's sequential:parallel ratio, a line per budget (the paper's
/// Fig. 7 left); `None` unless the sweep runs the mix at two ratios or more.
fn ratio_svg(spec: &SweepSpec, summary: &[SummaryRow]) -> Option<String> {
    if spec.ratios.len() < 2 || !spec.strategies.contains(&StrategyKind::Mix) {
        return None;
    }
    let series: Vec<Series> = spec
        .budgets
        .iter()
        .map(|&budget| {
            let mut points: Vec<Point> = summary
                .iter()
                .filter(|s| s.level == "all" && s.budget == budget)
                .filter_map(|s| Some(Point::percent(mix_ratio(&s.strategy)?, s.accuracy())))
                .collect();
            points.sort_by(|a, b| a.x.total_cmp(&b.x));
            Series {
                name: format!("budget {budget}"),
                points,
            }
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    (!series.is_empty()).then(|| {
        line_chart(
            "Accuracy against the sequential:parallel ratio",
            "sequential:parallel ratio (revisions per chain over chains, log scale)",
            "problems solved (%)",
            &series,
        )
    })
}

/// The FLOPs-matched exchange at one R (the paper's Fig. 9): per difficulty bin, L's
/// greedy accuracy beside the small model's compute-optimal accuracy at the budget of
/// the same FLOPs.
fn exchange_svg(x: &Exchange) -> String {
    let groups: Vec<String> = x.bins.iter().map(|b| format!("bin {}", b.bin)).collect();
    let series = [
        Bars {
            name: "L, greedy (1 generation)".into(),
            values: x
                .bins
                .iter()
                .map(|b| Some(Point::percent(f64::from(b.bin), b.larger)))
                .collect(),
        },
        Bars {
            name: format!("S compute-optimal at {:.0} generations", x.budget),
            values: x
                .bins
                .iter()
                .map(|b| b.small.map(|s| Point::percent(f64::from(b.bin), s)))
                .collect(),
        },
    ];
    bar_chart(
        &format!(
            "The same FLOPs: L against S thinking longer (R = {})",
            x.ratio
        ),
        "difficulty bin (1 easiest)",
        "problems solved (%)",
        &groups,
        &series,
    )
}

/// Accuracy per difficulty bin at `budget`, a bar per strategy (the paper's Fig. 3 right);
/// `None` before any unit with a difficulty signal is in.
fn bins_svg(spec: &SweepSpec, budget: u32, units: &[&UnitResult]) -> Option<String> {
    let cells = by_difficulty(units);
    let groups: Vec<String> = (1..=BINS as u8).map(|b| format!("bin {b}")).collect();
    let series: Vec<Bars> = spec
        .labels()
        .into_iter()
        .map(|name| Bars {
            values: (1..=BINS as u8)
                .map(|bin| {
                    cells
                        .iter()
                        .find(|c| c.bin == bin && c.strategy == name && c.budget == budget)
                        .map(|c| Point::percent(f64::from(bin), c.accuracy))
                })
                .collect(),
            name,
        })
        .filter(|b| b.values.iter().any(Option::is_some))
        .collect();
    (!series.is_empty()).then(|| {
        bar_chart(
            &format!("Accuracy by difficulty at a budget of {budget}"),
            "difficulty bin (1 easiest, 5 hardest)",
            "problems solved (%)",
            &groups,
            &series,
        )
    })
}

/// A checkbox of the sweep form, labelled `label`: checked while `checked` holds, and
/// `set` hears each change.
fn check_box(
    testid: String,
    label: String,
    checked: impl Fn() -> bool + Send + Sync + 'static,
    set: impl Fn(bool) + 'static,
) -> impl IntoView {
    view! {
        <label class="check">
            <input type="checkbox" data-testid=testid prop:checked=checked
                on:change=move |ev| set(event_target_checked(&ev))/>
            {label}
        </label>
    }
}

/// The SVG and PNG export buttons of one chart: `{testid}-svg` and `{testid}-png`,
/// labelled "{label} as SVG" and "… as PNG", saving `{file}.svg` and `{file}.png`.
fn chart_exports(
    chart: Signal<Option<String>>,
    file: &'static str,
    label: &'static str,
    testid: &'static str,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let as_svg = move |_| {
        if let Some(svg) = chart.get_untracked() {
            error.set(download(&format!("{file}.svg"), "image/svg+xml", &svg).err());
        }
    };
    let as_png = move |_| {
        if let Some(svg) = chart.get_untracked() {
            error.set(download_png(&format!("{file}.png"), &svg).err());
        }
    };
    let absent = move || chart.with(Option::is_none);
    view! {
        <button type="button" data-testid=format!("{testid}-svg") on:click=as_svg disabled=absent>
            {format!("{label} as SVG")}
        </button>
        <button type="button" data-testid=format!("{testid}-png") on:click=as_png disabled=absent>
            {format!("{label} as PNG")}
        </button>
    }
}

/// Starts a download of `bytes` named `name`.
fn download(name: &str, mime: &str, text: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|e| crate::backend::describe_js_error(&e))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|e| crate::backend::describe_js_error(&e))?;
    click_link(name, &url)?;
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

fn click_link(name: &str, href: &str) -> Result<(), String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|e| crate::backend::describe_js_error(&e))?
        .unchecked_into();
    a.set_href(href);
    a.set_download(name);
    a.click();
    Ok(())
}

/// Draws `svg` on a canvas at twice its size and downloads it as PNG.
fn download_png(name: &str, svg: &str) -> Result<(), String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let image =
        web_sys::HtmlImageElement::new().map_err(|e| crate::backend::describe_js_error(&e))?;
    let canvas: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(|e| crate::backend::describe_js_error(&e))?
        .unchecked_into();
    let name = name.to_string();
    let drawn = image.clone();
    let on_load = Closure::once_into_js(move || {
        let (w, h) = (drawn.natural_width() * 2, drawn.natural_height() * 2);
        canvas.set_width(w);
        canvas.set_height(h);
        let painted = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
            .map(|ctx| {
                ctx.draw_image_with_html_image_element_and_dw_and_dh(
                    &drawn,
                    0.0,
                    0.0,
                    f64::from(w),
                    f64::from(h),
                )
            });
        if let (Some(Ok(())), Ok(url)) = (painted, canvas.to_data_url_with_type("image/png")) {
            let _ = click_link(&name, &url);
        }
    });
    image.set_onload(Some(on_load.unchecked_ref()));
    let encoded = js_sys::encode_uri_component(svg);
    image.set_src(&format!("data:image/svg+xml;charset=utf-8,{encoded}"));
    Ok(())
}

#[component]
pub fn ExperimentView() -> impl IntoView {
    let router = Router::use_context();
    let runner = SweepRunner::use_context();
    let (linked, link_note) = linked_spec(&router);
    let form = RwSignal::new(linked.clone());
    let form_error = RwSignal::new(None::<String>);
    let export_error = RwSignal::new(None::<String>);
    let settings_text = RwSignal::new(
        linked
            .settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let seeds_text = RwSignal::new(
        linked
            .seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    );
    // A link with a sweep shows its stored results, and resumes one under way.
    if link_note.is_none()
        && SWEEP_KEYS
            .iter()
            .any(|k| router.state.get_untracked().get(k).is_some())
    {
        runner.open(linked, false);
    }

    let start = move || {
        let mut spec = form.get_untracked();
        let seeds: Result<Vec<u64>, String> = seeds_text
            .get_untracked()
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<u64>()
                    .map_err(|_| format!("seed {s:?} is not a whole number"))
            })
            .collect();
        spec.seeds = match seeds {
            Ok(s) => s,
            Err(e) => {
                form_error.set(Some(e));
                return;
            }
        };
        spec.settings = match parse_settings(&settings_text.get_untracked()) {
            Ok(s) => s,
            Err(e) => {
                form_error.set(Some(format!("Cannot run: {e}.")));
                return;
            }
        };
        spec.levels.sort_unstable();
        spec.budgets.sort_unstable();
        if let Err(e) = spec.check() {
            form_error.set(Some(format!("Cannot run: {e}.")));
            return;
        }
        form_error.set(None);
        set_link(&router, &spec);
        runner.open(spec, true);
    };

    // The finished units' rows, gathered once per change for the summary and comparisons.
    let rows = Memo::new(move |_| {
        runner.units.track();
        runner.rows()
    });
    let summary = Memo::new(move |_| rows.with(|rows| summarise(rows)));
    // Against best-of-N (majority where the sweep has no best-of-N), paired.
    let comparisons = Memo::new(move |_| {
        rows.with(|rows| baseline(rows).map_or_else(Vec::new, |b| versus(rows, b)))
    });
    let svg = Memo::new(move |_| {
        let spec = runner.spec.get()?;
        let summary = summary.get();
        (!summary.is_empty()).then(|| chart_svg(&spec, &summary))
    });
    let ratios_svg = Memo::new(move |_| ratio_svg(&runner.spec.get()?, &summary.get()));
    // The exchange against L at the slider's R.
    let exchange_r = RwSignal::new(4usize);
    let exchanged = Memo::new(move |_| {
        let spec = runner.spec.get()?;
        if !spec.large {
            return None;
        }
        let r = EXCHANGE_RATIOS[exchange_r.get().min(EXCHANGE_RATIOS.len() - 1)];
        let x = runner.units.with(|units| {
            exchange(
                &spec.labels(),
                &spec.budgets,
                &units.values().collect::<Vec<_>>(),
                r,
            )
        })?;
        (!x.bins.is_empty()).then_some((x, spec.max_budget()))
    });
    let exchange_chart = Signal::derive(move || exchanged.get().map(|(x, _)| exchange_svg(&x)));
    // The budget the difficulty chart shows (the largest unless chosen).
    let bin_budget = RwSignal::new(None::<u32>);
    let shown_bin_budget = move || {
        let spec = runner.spec.get()?;
        Some(
            bin_budget
                .get()
                .filter(|b| spec.budgets.contains(b))
                .unwrap_or_else(|| spec.max_budget()),
        )
    };
    let difficulty = Memo::new(move |_| {
        let spec = runner.spec.get()?;
        let budget = shown_bin_budget()?;
        runner
            .units
            .with(|units| bins_svg(&spec, budget, &units.values().collect::<Vec<_>>()))
    });
    let steps_svg = Memo::new(move |_| {
        let spec = runner.spec.get()?;
        runner.units.with(|units| {
            let curve = by_revision_step(&units.values().collect::<Vec<_>>());
            (!curve.is_empty()).then(|| {
                line_chart_on(
                    XScale::Linear,
                    &format!(
                        "Accuracy at each revision step (budget {})",
                        spec.max_budget()
                    ),
                    "revision step (attempt number in a chain)",
                    "attempts right (%)",
                    &[Series {
                        name: "revisions".into(),
                        points: curve
                            .iter()
                            .map(|c| Point::percent(c.step as f64, c.accuracy))
                            .collect(),
                    }],
                )
            })
        })
    });
    // Compute-optimal against best-of-N (the paper's Fig. 4): needs the difficulty signal
    // and at least two strategies to choose from.
    let optimal_svg = Memo::new(move |_| {
        let spec = runner.spec.get()?;
        if spec.labels().len() < 2 {
            return None;
        }
        let names = spec.labels();
        let curve = runner.units.with(|units| {
            compute_optimal(&names, &spec.budgets, &units.values().collect::<Vec<_>>())
        });
        if curve.is_empty() {
            return None;
        }
        let bins = curve.first().map_or(0, |p| p.bins);
        let mut series = vec![Series {
            name: "compute-optimal".into(),
            points: curve
                .iter()
                .map(|p| Point::percent(f64::from(p.budget), p.accuracy))
                .collect(),
        }];
        let best_of_n: Vec<Point> = summary
            .get()
            .iter()
            .filter(|s| s.level == "all" && s.strategy == StrategyKind::BestOfN.name())
            .map(|s| Point::percent(f64::from(s.budget), s.accuracy()))
            .collect();
        if !best_of_n.is_empty() {
            series.push(Series {
                name: "best-of-n".into(),
                points: best_of_n,
            });
        }
        Some((
            line_chart(
                &format!("Compute-optimal, chosen per difficulty bin ({bins} bins)"),
                "budget (generations, log scale)",
                "problems solved (%)",
                &series,
            ),
            bins,
        ))
    });
    let optimal_chart = Signal::derive(move || optimal_svg.get().map(|(svg, _)| svg));
    let progress_text = move || {
        if runner.spec.with(Option::is_none) {
            // Nothing opened yet: what the form would run.
            let problems = problem_bank::with_test_set(|set| {
                set.map(|set| form.with(|f| f.problems(set).len()))
                    .unwrap_or(0)
            });
            let seeds = seeds_text.with(|t| t.split([',', ' ']).filter(|s| !s.is_empty()).count());
            return format!(
                "{} (seed, problem) pairs to run: {problems} problems × {seeds} seed{}",
                problems * seeds,
                if seeds == 1 { "" } else { "s" }
            );
        }
        let done = runner.units.with(|u| u.len());
        let total = runner.total_units.get();
        let (work_done, work_total) = runner.work.get();
        let timing = match runner.status.get() {
            SweepStatus::Running => format!(
                " · {}",
                progress::timing(
                    (js_sys::Date::now() - runner.started_ms.get()) / 1000.0,
                    work_done,
                    work_total
                )
            ),
            _ => String::new(),
        };
        format!("{done} of {total} (seed, problem) pairs done{timing}")
    };
    // The time left is recomputed every second while a sweep runs.
    let tick = RwSignal::new(0u32);
    let handle = set_interval_with_handle(
        move || tick.update(|t| *t = t.wrapping_add(1)),
        std::time::Duration::from_secs(1),
    );
    on_cleanup(move || {
        if let Ok(h) = handle {
            h.clear();
        }
    });

    let level_box = move |level: u8| {
        check_box(
            format!("level-{level}"),
            format!("level {level}"),
            move || form.with(|f| f.levels.is_empty() || f.levels.contains(&level)),
            move |on| {
                form.update(|f| {
                    if f.levels.is_empty() {
                        f.levels = (1..=5).collect();
                    }
                    f.levels.retain(|&l| l != level);
                    if on {
                        f.levels.push(level);
                    }
                    if f.levels.len() == 5 {
                        f.levels.clear();
                    }
                })
            },
        )
    };
    let budget_box = move |budget: u32| {
        check_box(
            format!("budget-{budget}"),
            budget.to_string(),
            move || form.with(|f| f.budgets.contains(&budget)),
            move |on| {
                form.update(|f| {
                    f.budgets.retain(|&b| b != budget);
                    if on {
                        f.budgets.push(budget);
                    }
                })
            },
        )
    };
    let strategy_box = move |kind: StrategyKind| {
        check_box(
            format!("strategy-{}", kind.name()),
            kind.name().to_string(),
            move || form.with(|f| f.strategies.contains(&kind)),
            move |on| {
                form.update(|f| {
                    f.strategies.retain(|&k| k != kind);
                    if on {
                        f.strategies.push(kind);
                        f.strategies
                            .sort_by_key(|k| StrategyKind::ALL.iter().position(|a| a == k));
                    }
                })
            },
        )
    };
    let ratio_box = move |ratio: f64| {
        let name = if ratio < 1.0 {
            format!("1:{}", 1.0 / ratio)
        } else {
            format!("{ratio}:1")
        };
        check_box(
            format!("ratio-{ratio}"),
            name,
            move || form.with(|f| f.ratios.contains(&ratio)),
            move |on| {
                form.update(|f| {
                    f.ratios.retain(|&r| r != ratio);
                    if on {
                        f.ratios.push(ratio);
                        f.ratios.sort_by(f64::total_cmp);
                    }
                })
            },
        )
    };

    let export_rows_csv = move |_| {
        let result = download(
            "ponder-sweep-rows.csv",
            "text/csv",
            &rows_csv(&runner.rows()),
        );
        export_error.set(result.err());
    };
    let export_rows_json = move |_| {
        let json = serde_json::json!({
            "spec": runner.spec.get_untracked().map(|s| s.to_query()),
            "rows": runner.rows(),
        });
        let result = serde_json::to_string_pretty(&json)
            .map_err(|e| e.to_string())
            .and_then(|text| download("ponder-sweep-rows.json", "application/json", &text));
        export_error.set(result.err());
    };
    view! {
        <section class="view" data-testid="view-experiment" aria-labelledby="view-title">
            <h1 id="view-title">"Experiment"</h1>
            <p class="lede">
                "Run many problems at once and watch accuracy grow with the budget, strategy by strategy: "
                "the paper's Figure 3, measured here on the built-in models. Each (seed, problem) is stored in "
                "this browser as it finishes, so a reload picks up where the sweep stopped, and the link carries "
                "the sweep: "<code>"ponder sweep"</code>" gives the same rows for it."
            </p>
            {link_note.map(|note| view! { <p class="status-note" role="status">{note}</p> })}
            <form class="sweep-form" on:submit=move |ev| { ev.prevent_default(); start(); }>
                <fieldset>
                    <legend>"Problems (test set)"</legend>
                    {(1..=5u8).map(level_box).collect_view()}
                    <label>
                        "problems per level "
                        <input type="number" min="1" max="100" data-testid="per-level"
                            prop:value=move || form.with(|f| f.per_level.to_string())
                            on:change=move |ev| {
                                let v = event_target_value(&ev).parse::<usize>().unwrap_or(1).clamp(1, 100);
                                form.update(|f| f.per_level = v);
                            }/>
                    </label>
                </fieldset>
                <fieldset>
                    <legend>"Budgets (generations)"</legend>
                    {offered_budgets().into_iter().map(budget_box).collect_view()}
                </fieldset>
                <fieldset>
                    <legend>"Strategies"</legend>
                    {StrategyKind::ALL.into_iter().map(strategy_box).collect_view()}
                </fieldset>
                <fieldset>
                    <legend>"The larger sibling"</legend>
                    {check_box(
                        "large".into(),
                        "also L's greedy answer to each problem (its model is downloaded once), for the exchange at equal FLOPs".into(),
                        move || form.with(|f| f.large),
                        move |on| form.update(|f| f.large = on),
                    )}
                </fieldset>
                <Show when=move || form.with(|f| f.strategies.contains(&StrategyKind::Mix))>
                    <fieldset>
                        <legend>"Mix: sequential:parallel ratios (none: 1:1, as a share link's default)"</legend>
                        {OFFERED_RATIOS.into_iter().map(ratio_box).collect_view()}
                    </fieldset>
                </Show>
                <fieldset>
                    <legend>"Strategy settings"</legend>
                    <label>
                        "share-link keys for every run, for example "<code>"width=8, agg=min"</code>
                        " (none: a share link's defaults) "
                        <input type="text" data-testid="settings" prop:value=move || settings_text.get()
                            on:input=move |ev| settings_text.set(event_target_value(&ev))/>
                    </label>
                </fieldset>
                <fieldset>
                    <legend>"Seeds"</legend>
                    <label>
                        "seeds, comma-separated "
                        <input type="text" data-testid="seeds" prop:value=move || seeds_text.get()
                            on:input=move |ev| seeds_text.set(event_target_value(&ev))/>
                    </label>
                </fieldset>
                <div class="sweep-actions">
                    <button type="submit" data-testid="sweep-run"
                        disabled=move || runner.status.get() == SweepStatus::Running>
                        {move || if runner.units.with(|u| !u.is_empty()) && runner.status.get() != SweepStatus::Finished {
                            "Resume sweep"
                        } else {
                            "Run sweep"
                        }}
                    </button>
                    <button type="button" data-testid="sweep-stop"
                        disabled=move || runner.status.get() != SweepStatus::Running
                        on:click=move |_| runner.stop()>"Stop"</button>
                    <button type="button" data-testid="sweep-forget"
                        disabled=move || runner.units.with(|u| u.is_empty())
                        on:click=move |_| runner.forget()>"Forget stored results"</button>
                </div>
                {move || form_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </form>

            <div class="sweep-progress" data-testid="sweep-progress"
                data-status=move || match runner.status.get() {
                    SweepStatus::Idle => "idle".to_string(),
                    SweepStatus::Opening => "opening".into(),
                    SweepStatus::Running => "running".into(),
                    SweepStatus::Finished => "finished".into(),
                    SweepStatus::Stopped => "stopped".into(),
                    SweepStatus::Failed(_) => "failed".into(),
                }
                data-done=move || runner.units.with(|u| u.len()).to_string()>
                <progress hidden=move || runner.spec.with(Option::is_none)
                    max=move || runner.total_units.get().max(1).to_string()
                    value=move || runner.units.with(|u| u.len()).to_string()
                    aria-label="units of the sweep done"></progress>
                <p role="status">
                    {move || { tick.track(); progress_text() }}
                    {move || (runner.resumed.get() > 0).then(|| format!(" · {} were stored from an earlier visit", runner.resumed.get()))}
                </p>
                {move || match runner.status.get() {
                    SweepStatus::Failed(e) => Some(view! { <p class="error" role="alert">{format!("The sweep stopped: {e}")}</p> }.into_any()),
                    SweepStatus::Stopped => Some(view! { <p>"Stopped. The finished pairs are kept; Resume goes on from them."</p> }.into_any()),
                    _ => None,
                }}
                {move || runner.store_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </div>

            {move || svg.get().map(|svg| view! {
                <figure class="sweep-chart" data-testid="sweep-chart">
                    <div inner_html=svg></div>
                    <figcaption>
                        "Each line is one strategy: the share of problems whose chosen answer is right, at each "
                        "budget (how many solutions the policy generates per problem). The shaded band spans the "
                        "lowest to the highest seed; hover over a point for its numbers. Where a line keeps "
                        "rising, spending more on that strategy still pays; where lines cross, the better "
                        "strategy depends on the budget, which is the paper's case for choosing per budget."
                    </figcaption>
                </figure>
            })}

            {move || difficulty.get().map(|svg| view! {
                <figure class="sweep-chart" data-testid="bins-chart">
                    <label>
                        "Budget shown "
                        <select data-testid="bins-budget" on:change=move |ev| {
                            bin_budget.set(event_target_value(&ev).parse().ok());
                        }>
                            {runner.spec.get().map(|s| s.budgets.clone()).unwrap_or_default().into_iter().map(|b| {
                                let selected = shown_bin_budget() == Some(b);
                                view! { <option value=b.to_string() selected=selected>{b.to_string()}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <div inner_html=svg></div>
                    <figcaption>
                        "The problems sorted by difficulty, as the paper does: each seed's problems go into five "
                        "bins by how often the policy's samples got them right (as many samples as the largest "
                        "budget, drawn apart from the ones any strategy chooses among, so that the bins do not favour "
                        "best-of-N and majority), bin 1 the easiest fifth and bin 5 the hardest. Each bar is a strategy's "
                        "share solved in that bin at the budget shown; the whisker spans the seeds. The paper "
                        "found search (beam) ahead of best-of-N on harder problems at small budgets, and behind on "
                        "easy problems at large ones, where it over-fits the verifier."
                    </figcaption>
                </figure>
            })}
            {move || runner.units.with(|u| !u.is_empty() && u.values().all(|r| r.pass_at_1.is_none())).then(|| view! {
                <p class="status-note">
                    "The chart by difficulty needs majority or best-of-N in the sweep: beside them the sweep draws the samples that measure how hard each problem is."
                </p>
            })}

            {move || steps_svg.get().map(|svg| view! {
                <figure class="sweep-chart" data-testid="steps-chart">
                    <div inner_html=svg></div>
                    <figcaption>
                        "Sequential revision, step by step: each attempt in a chain sees the attempts before it "
                        "and tries again. The line is the share of attempts that are right at each step of the "
                        "chains in the largest-budget revisions run, averaged over problems; the band spans the "
                        "seeds. Where it rises, the reviser fixes earlier mistakes, as in the paper's Figure 6 (left)."
                    </figcaption>
                </figure>
            })}

            {move || ratios_svg.get().map(|svg| view! {
                <figure class="sweep-chart" data-testid="ratio-chart">
                    <div inner_html=svg></div>
                    <figcaption>
                        "The mix splits each budget between sequential revisions and parallel chains: at a "
                        "ratio of 4:1 each chain is four times as long as there are chains, at 1:4 there are "
                        "four times as many chains as revisions in each. Each line is one budget; the band spans "
                        "the seeds. The paper found a ratio between the two extremes best, and the best ratio "
                        "moving towards sequential as problems get easier (its Figure 7). Where a budget cannot be "
                        "split at a ratio exactly, the nearest split runs, as in a share link: at a budget of 4, "
                        "16:1 is one chain of 4; budgets of 16 and 256 meet all five ratios."
                    </figcaption>
                </figure>
            })}

            {move || exchanged.get().map(|(x, largest)| view! {
                <figure class="sweep-chart" data-testid="exchange-chart">
                    <label>
                        "R, inference tokens over pretraining tokens: "
                        <input type="range" min="0" max=(EXCHANGE_RATIOS.len() - 1).to_string() step="1"
                            data-testid="exchange-r" aria-valuetext=x.ratio.to_string()
                            prop:value=move || exchange_r.get().to_string()
                            on:input=move |ev| {
                                if let Ok(i) = event_target_value(&ev).parse::<usize>() {
                                    exchange_r.set(i);
                                }
                            }/>
                        " " <output data-testid="exchange-r-value">{x.ratio.to_string()}</output>
                    </label>
                    <div inner_html=exchange_svg(&x)></div>
                    <figcaption data-testid="exchange-caption">
                        {format!(
                            "L has {:.1} times S's parameters. Scaling a model up costs pretraining FLOPs as \
                             well as inference FLOPs, so at R = {r} one generation of L costs as much as \
                             {budget:.0} of S's (M + 3(M−1)/R, the paper's §7): a small R means the model \
                             answers few queries for its pretraining, and thinking longer has more FLOPs to \
                             spend. Each bin compares L's greedy answer with S's compute-optimal strategy at \
                             that budget (read between this sweep's budgets on a log scale, chosen per bin on \
                             the other half of its problems).{past} The paper found test-time compute ahead on \
                             easy and medium questions when R is small, and pretraining ahead on the hardest \
                             (its Figure 9).",
                            x.scale,
                            r = x.ratio,
                            budget = x.budget,
                            past = if x.budget > f64::from(largest) {
                                format!(" {:.0} generations is past this sweep's largest budget ({largest}), so S has no bar here.", x.budget)
                            } else {
                                String::new()
                            },
                        )}
                    </figcaption>
                </figure>
            })}
            {move || runner.spec.with(|s| s.as_ref().is_some_and(|s| s.large)).then(|| view! {
                <Show when=move || exchanged.with(Option::is_none) && runner.units.with(|u| !u.is_empty())>
                    <p class="status-note">
                        "The exchange with L needs majority or best-of-N in the sweep (beside them the sweep draws the samples that sort the problems by difficulty)."
                    </p>
                </Show>
            })}

            {move || optimal_svg.get().map(|(svg, bins)| view! {
                <figure class="sweep-chart" data-testid="optimal-chart">
                    <div inner_html=svg></div>
                    <figcaption>
                        {format!(
                            "The paper's compute-optimal strategy: at each budget and in each of {bins} difficulty \
                             bins, the strategy of this sweep that did best on half of the bin's problems is \
                             scored on the other half (and the other way round), so no choice is graded on the \
                             problems it was made on. Where the line stands above best-of-N, choosing the \
                             strategy by difficulty buys accuracy at the same budget, as the paper's Figure 4 \
                             shows."
                        )}
                    </figcaption>
                </figure>
            })}

            <div class="sweep-exports" role="group" aria-label="Export">
                <button type="button" data-testid="export-csv" on:click=export_rows_csv
                    disabled=move || runner.units.with(|u| u.is_empty())>"Rows as CSV"</button>
                <button type="button" data-testid="export-json" on:click=export_rows_json
                    disabled=move || runner.units.with(|u| u.is_empty())>"Rows as JSON"</button>
                {chart_exports(svg.into(), "ponder-accuracy", "Chart", "export", export_error)}
                {chart_exports(steps_svg.into(), "ponder-revision-steps", "Revision chart", "export-steps", export_error)}
                {chart_exports(ratios_svg.into(), "ponder-ratios", "Ratio chart", "export-ratios", export_error)}
                {chart_exports(exchange_chart, "ponder-exchange", "Exchange chart", "export-exchange", export_error)}
                {chart_exports(optimal_chart, "ponder-compute-optimal", "Compute-optimal chart", "export-optimal", export_error)}
                {chart_exports(difficulty.into(), "ponder-difficulty", "Difficulty chart", "export-bins", export_error)}
                {move || export_error.get().map(|e| view! { <p class="error" role="alert">{format!("Export failed: {e}")}</p> })}
            </div>

            {move || {
                let rows: Vec<SummaryRow> = summary.get().into_iter().filter(|s| s.level == "all").collect();
                (!rows.is_empty()).then(|| view! {
                    // Wider than a phone: the table scrolls in its own box, not the page.
                    <div class="table-scroll" role="region" aria-label="Accuracy table" tabindex="0">
                    <table class="sweep-table" data-testid="sweep-table">
                        <caption>"Accuracy over all chosen levels: mean over seeds, its 95% interval over problems (a problem's seeds drawn together), and the lowest and highest seed"</caption>
                        <thead><tr>
                            <th scope="col">"strategy"</th><th scope="col">"budget"</th>
                            <th scope="col">"accuracy"</th><th scope="col">"95% interval"</th>
                            <th scope="col">"range over seeds"</th>
                            <th scope="col">"seeds"</th><th scope="col">"problems per seed"</th>
                        </tr></thead>
                        <tbody>
                            {rows.into_iter().map(|s| view! {
                                <tr>
                                    <td>{s.strategy.clone()}</td>
                                    <td>{s.budget}</td>
                                    <td>{format!("{:.1}%", 100.0 * s.mean_accuracy)}</td>
                                    <td>{format!("{:.1}–{:.1}%", 100.0 * s.ci_low, 100.0 * s.ci_high)}</td>
                                    <td>{format!("{:.1}–{:.1}%", 100.0 * s.min_accuracy, 100.0 * s.max_accuracy)}</td>
                                    <td>{s.seeds}</td>
                                    <td>{s.problems_per_seed}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                })
            }}

            {move || {
                let comparisons = comparisons.get();
                let baseline = comparisons.first().map(|c| c.baseline.clone())?;
                Some(view! {
                    <div class="table-scroll" role="region" aria-label="Comparison table" tabindex="0">
                    <table class="sweep-table" data-testid="comparison-table">
                        <caption>{format!(
                            "Each strategy against {baseline} at the same budget, paired on the same problems and seeds: \
                             the difference in accuracy, its 95% interval, and what it says of \"beats {baseline}\" \
                             (agrees or disagrees only when the whole interval is on one side)"
                        )}</caption>
                        <thead><tr>
                            <th scope="col">"strategy"</th><th scope="col">"budget"</th>
                            <th scope="col">"difference"</th><th scope="col">"95% interval"</th>
                            <th scope="col">"problems"</th><th scope="col">"verdict"</th>
                        </tr></thead>
                        <tbody>
                            {comparisons.into_iter().map(|c| view! {
                                <tr>
                                    <td>{c.strategy.clone()}</td>
                                    <td>{c.budget}</td>
                                    <td>{format!("{:+.1} points", 100.0 * c.difference)}</td>
                                    <td>{format!("{:+.1} to {:+.1}", 100.0 * c.ci_low, 100.0 * c.ci_high)}</td>
                                    <td>{c.problems}</td>
                                    <td>{c.verdict.label()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                })
            }}

        </section>
    }
}
