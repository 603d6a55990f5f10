//! A chat box for a visitor's model: the answer streams in as the worker decodes it
//! (greedily, as `ponder generate --chat` does, so the command line gives the same text),
//! then its speed in tokens per second. Stop ends the worker; the next message starts a
//! fresh one.

use std::cell::RefCell;

use leptos::prelude::*;

use crate::worker_bridge::WorkerBridge;
use crate::worker_protocol::{FromWorker, ToWorker};

#[derive(Clone, Debug, PartialEq)]
enum Reply {
    None,
    /// The worker is loading the model or decoding.
    Streaming(String),
    Done {
        text: String,
        prompt_tokens: u32,
        tokens: u32,
        tokens_per_second: f64,
    },
    Failed(String),
}

struct Shared {
    worker: Option<WorkerBridge>,
    /// The latest message's number: pieces of earlier answers are dropped.
    chat: u64,
}

thread_local! {
    static SHARED: RefCell<Shared> = const {
        RefCell::new(Shared { worker: None, chat: 0 })
    };
}

fn end_worker() {
    SHARED.with(|s| {
        let mut s = s.borrow_mut();
        s.worker = None;
        s.chat += 1;
    });
}

/// Chat with the model kept under `key` (named `name`).
#[component]
pub fn ChatBox(key: String, name: String) -> impl IntoView {
    let prompt = RwSignal::new("What is 12 + 30?".to_string());
    let max_tokens = RwSignal::new(64u32);
    let reply = RwSignal::new(Reply::None);
    on_cleanup(end_worker);

    let receive = move |message: FromWorker| {
        // Pieces of an answer the visitor has since stopped or replaced are dropped.
        let current = SHARED.with(|s| s.borrow().chat);
        let stale = match &message {
            FromWorker::ChatPiece { chat, .. }
            | FromWorker::ChatDone { chat, .. }
            | FromWorker::ChatFailed { chat, .. } => *chat != current,
            _ => false,
        };
        if stale {
            return;
        }
        match message {
            FromWorker::ChatPiece { text, .. } => {
                let _ = reply.try_update(|r| match r {
                    Reply::Streaming(so_far) => so_far.push_str(&text),
                    other => *other = Reply::Streaming(text),
                });
            }
            FromWorker::ChatDone {
                prompt_tokens,
                tokens,
                tokens_per_second,
                ..
            } => {
                let _ = reply.try_update(|r| {
                    let text = match r {
                        Reply::Streaming(t) => std::mem::take(t),
                        _ => String::new(),
                    };
                    *r = Reply::Done {
                        text,
                        prompt_tokens,
                        tokens,
                        tokens_per_second,
                    };
                });
            }
            FromWorker::ChatFailed { message, .. } | FromWorker::Error { message } => {
                end_worker();
                let _ = reply.try_set(Reply::Failed(message));
            }
            _ => {}
        }
    };

    let send = {
        let key = key.clone();
        move || {
            let text = prompt.get_untracked();
            if text.trim().is_empty() {
                reply.set(Reply::Failed("write a message first".into()));
                return;
            }
            reply.set(Reply::Streaming(String::new()));
            let chat = SHARED.with(|s| {
                let mut s = s.borrow_mut();
                s.chat += 1;
                s.chat
            });
            let request = ToWorker::Chat {
                chat,
                key: key.clone(),
                prompt: text,
                max_tokens: max_tokens.get_untracked(),
            };
            // The worker keeps the model loaded between messages; a stopped one is
            // started again.
            let sent = SHARED.with(|s| {
                let mut s = s.borrow_mut();
                if s.worker.is_none() {
                    s.worker = Some(WorkerBridge::start(receive)?);
                }
                s.worker.as_ref().map_or(Ok(()), |w| w.send(&request))
            });
            if let Err(e) = sent {
                reply.set(Reply::Failed(e));
            }
        }
    };
    let streaming = move || matches!(reply.get(), Reply::Streaming(_));

    view! {
        <section class="chat-box" data-testid="chat-box" aria-label=format!("Chat with {name}")>
            <h3>{format!("Chat with {name}")}</h3>
            <p>
                "The answer is decoded greedily in a worker on the CPU, as "<code>"ponder generate --chat"</code>
                " does, so the command line gives the same text. A model with a chat template is prompted "
                "through it; a base model continues your text."
            </p>
            <form on:submit=move |ev| { ev.prevent_default(); send(); }>
                <label>
                    "Message "
                    <textarea data-testid="chat-prompt" rows="2" prop:value=move || prompt.get()
                        on:input=move |ev| prompt.set(event_target_value(&ev))></textarea>
                </label>
                <label>
                    " at most "
                    <input type="number" min="1" max="1024" data-testid="chat-max-tokens"
                        prop:value=move || max_tokens.get().to_string()
                        on:change=move |ev| {
                            let v = event_target_value(&ev).parse::<u32>().unwrap_or(64).clamp(1, 1024);
                            max_tokens.set(v);
                        }/>
                    " tokens "
                </label>
                <button type="submit" data-testid="chat-send" disabled=streaming>"Send"</button>
                <button type="button" data-testid="chat-stop" disabled=move || !streaming()
                    on:click=move |_| { end_worker(); reply.set(Reply::Failed("stopped; the text so far is gone with the worker, send again to restart".into())); }>
                    "Stop"
                </button>
            </form>
            <div data-testid="chat-state" data-state=move || match reply.get() {
                Reply::None => "idle",
                Reply::Streaming(_) => "streaming",
                Reply::Done { .. } => "done",
                Reply::Failed(_) => "failed",
            }>
                {move || match reply.get() {
                    Reply::None => ().into_any(),
                    Reply::Streaming(text) => view! {
                        <pre class="chat-reply" data-testid="chat-reply">{if text.is_empty() { "Loading the model…".to_string() } else { text }}</pre>
                    }.into_any(),
                    Reply::Done { text, prompt_tokens, tokens, tokens_per_second } => view! {
                        <pre class="chat-reply" data-testid="chat-reply">{text}</pre>
                        <p data-testid="chat-speed" role="status">
                            {format!("{prompt_tokens} prompt tokens, {tokens} new tokens at {tokens_per_second:.1} tokens/s")}
                        </p>
                    }.into_any(),
                    Reply::Failed(e) => view! { <p class="error" role="alert" data-testid="chat-error">{e}</p> }.into_any(),
                }}
            </div>
        </section>
    }
}
