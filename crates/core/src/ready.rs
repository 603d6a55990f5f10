//! Running a future that needs no waiting.
//!
//! The strategies are `async` because one engine (the GPU in a browser tab) must wait for
//! its device between steps, and a tab's thread cannot block. Every other engine answers
//! at once: its futures are ready at the first poll, and [`now`] runs them to the end
//! without an executor.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// The future's output if it completes at its first poll; `None` if it waits.
pub fn now<F: Future>(future: F) -> Option<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}
