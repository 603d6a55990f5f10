//! The Experiment view's finished sweep units, kept in the browser's IndexedDB as they
//! arrive, so that a reload, a closed tab or a crash loses nothing: the sweep resumes
//! from the units stored. Records are keyed `spec|seed|problem` by the sweep's link text,
//! so two sweeps never mix and one link finds its own results.

use ponder_core::sweep::{Unit, UnitResult};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

const DATABASE: &str = "ponder-sweeps";
const UNITS: &str = "units";

/// The open database.
#[derive(Clone)]
pub struct SweepStore {
    db: web_sys::IdbDatabase,
}

fn key(spec: &str, unit: Unit) -> String {
    format!("{spec}|{}|{}", unit.seed, unit.problem)
}

/// Every key of the sweep `spec`'s units.
fn keys_of(spec: &str) -> Result<JsValue, String> {
    web_sys::IdbKeyRange::bound(
        &JsValue::from_str(&format!("{spec}|")),
        &JsValue::from_str(&format!("{spec}|\u{ffff}")),
    )
    .map(JsValue::from)
    .map_err(|e| js_message(&e))
}

fn js_message(e: &JsValue) -> String {
    crate::backend::describe_js_error(e)
}

/// Resolves when `request` succeeds, with its result.
async fn finished(request: &web_sys::IdbRequest) -> Result<JsValue, String> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let done = request.clone();
        let on_success = Closure::once_into_js(move |_: web_sys::Event| {
            let _ = resolve.call1(&JsValue::NULL, &done.result().unwrap_or(JsValue::UNDEFINED));
        });
        let failed = request.clone();
        let on_error = Closure::once_into_js(move |_: web_sys::Event| {
            let why = failed
                .error()
                .ok()
                .flatten()
                .map(|e| e.message())
                .unwrap_or_else(|| "unknown error".into());
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str(&why));
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise).await.map_err(|e| js_message(&e))
}

impl SweepStore {
    /// Opens (creating on first use) the page's sweep database.
    pub async fn open() -> Result<SweepStore, String> {
        let unavailable = |why: String| {
            format!(
                "this browser keeps no sweep results ({why}); a reload will start the sweep over"
            )
        };
        let factory = web_sys::window()
            .ok_or("no window")
            .map_err(|e| unavailable(e.into()))?
            .indexed_db()
            .map_err(|e| unavailable(js_message(&e)))?
            .ok_or_else(|| unavailable("IndexedDB is off, as in some private windows".into()))?;
        let request = factory
            .open_with_u32(DATABASE, 1)
            .map_err(|e| unavailable(js_message(&e)))?;
        let upgrading = request.clone();
        let on_upgrade = Closure::once_into_js(move |_: web_sys::Event| {
            if let Ok(result) = upgrading.result() {
                let db: web_sys::IdbDatabase = result.unchecked_into();
                if !db.object_store_names().contains(UNITS) {
                    let _ = db.create_object_store(UNITS);
                }
            }
        });
        request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
        let db = finished(&request).await.map_err(unavailable)?;
        Ok(SweepStore {
            db: db.unchecked_into(),
        })
    }

    fn units(&self, mode: web_sys::IdbTransactionMode) -> Result<web_sys::IdbObjectStore, String> {
        self.db
            .transaction_with_str_and_mode(UNITS, mode)
            .and_then(|t| t.object_store(UNITS))
            .map_err(|e| js_message(&e))
    }

    /// Every unit stored for the sweep `spec` (its link text), in key order.
    pub async fn load(&self, spec: &str) -> Result<Vec<UnitResult>, String> {
        let request = self
            .units(web_sys::IdbTransactionMode::Readonly)?
            .get_all_with_key(&keys_of(spec)?)
            .map_err(|e| js_message(&e))?;
        let values: js_sys::Array = finished(&request).await?.unchecked_into();
        let mut out = Vec::new();
        for value in values.iter() {
            let text = value.as_string().unwrap_or_default();
            // A record this release cannot read (written by an older one) is skipped: its
            // unit runs again rather than showing wrong rows.
            if let Ok(stored) = serde_json::from_str::<UnitResult>(&text) {
                out.push(stored);
            }
        }
        Ok(out)
    }

    /// Stores one finished unit of `spec`.
    pub async fn save(&self, spec: &str, stored: &UnitResult) -> Result<(), String> {
        let text = serde_json::to_string(stored).map_err(|e| e.to_string())?;
        let request = self
            .units(web_sys::IdbTransactionMode::Readwrite)?
            .put_with_key(
                &JsValue::from_str(&text),
                &JsValue::from_str(&key(spec, stored.unit)),
            )
            .map_err(|e| js_message(&e))?;
        finished(&request).await.map(|_| ())
    }

    /// Forgets every stored unit of `spec`.
    pub async fn clear(&self, spec: &str) -> Result<(), String> {
        let request = self
            .units(web_sys::IdbTransactionMode::Readwrite)?
            .delete(&keys_of(spec)?)
            .map_err(|e| js_message(&e))?;
        finished(&request).await.map(|_| ())
    }
}
