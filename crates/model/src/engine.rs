//! The CPU engine: a loaded model with its sequences, driven by strategies through
//! `ponder_core`'s [`Policy`] and [`Verifier`] traits.
//!
//! A sequence is a KV cache plus the tokens not yet run through the model ("pending"): a
//! freshly sampled token, or appended text. Work is deferred until the next forward, so a
//! `step` call runs all pending tokens of all requested sequences as one batch (prefill
//! and decode alike), then one token per live sequence per forward until each stops.

use std::collections::HashMap;

use ponder_core::{
    DrawKey, Finish, Policy, Sampling, SeqId, StepOutput, StepRequest, StopSpec, Verifier,
};

use crate::error::{ModelError, Result};
use crate::forward::{Forward, SequenceCache};
use crate::gguf::GgufFile;
use crate::prm::{log_prob, PrmHead, Surprise};
use crate::sampler::{sample, uniform, SamplingParams};
use crate::tokenizer::{ChatMessage, Tokenizer};
use crate::transformer::{BatchItem, Transformer, Wanted};

/// A model file, loaded: weights (on the CPU unless a backend says otherwise), tokenizer
/// and (for a PRM) its head.
pub struct LanguageModel<F = Transformer> {
    pub transformer: F,
    pub tokenizer: Tokenizer,
    pub prm: Option<PrmHead>,
}

impl LanguageModel {
    /// Loads a GGUF file held in memory.
    pub fn from_gguf_bytes(bytes: &[u8]) -> Result<LanguageModel> {
        let file = GgufFile::read(bytes)?;
        let transformer = Transformer::from_gguf(&file, bytes)?;
        LanguageModel::from_parts(&file, bytes, transformer)
    }
}

impl<F: Forward> LanguageModel<F> {
    /// The model of `file` with its weights already loaded into `transformer` (by any
    /// backend): reads the tokenizer and any PRM head.
    pub fn from_parts(file: &GgufFile, bytes: &[u8], transformer: F) -> Result<LanguageModel<F>> {
        let tokenizer = Tokenizer::from_gguf(file)?;
        if tokenizer.vocab_size() > transformer.vocab_size() {
            return Err(ModelError::BadMetadata {
                key: "tokenizer.ggml.tokens".into(),
                expected: format!(
                    "at most {} tokens (the embedding's rows)",
                    transformer.vocab_size()
                ),
                found: tokenizer.vocab_size().to_string(),
            });
        }
        let prm = PrmHead::from_gguf(file, bytes, transformer.config().hidden)?;
        Ok(LanguageModel {
            transformer,
            tokenizer,
            prm,
        })
    }

    /// Parameters of the transformer and any PRM head.
    pub fn parameters(&self) -> u64 {
        self.transformer.parameters() + self.prm.as_ref().map_or(0, PrmHead::parameters)
    }
}

struct Sequence<C> {
    cache: C,
    /// Tokens decided but not yet run through the model.
    pending: Vec<u32>,
}

/// A model plus its live sequences.
pub struct Engine<F: Forward = Transformer> {
    pub model: LanguageModel<F>,
    sequences: HashMap<SeqId, Sequence<F::Cache>>,
    next_id: SeqId,
    /// Wrap prompts in the model's chat template (for instruct models).
    pub chat: bool,
    /// Tokens run through the model by the last `Verifier::score` call.
    last_score_tokens: Option<u64>,
}

impl<F: Forward> Engine<F> {
    pub fn new(model: LanguageModel<F>) -> Engine<F> {
        let chat = model.tokenizer.is_instruct();
        Engine {
            model,
            sequences: HashMap::new(),
            next_id: 1,
            chat,
            last_score_tokens: None,
        }
    }

    fn insert(&mut self, seq: Sequence<F::Cache>) -> SeqId {
        let id = self.next_id;
        self.next_id += 1;
        self.sequences.insert(id, seq);
        id
    }

    fn get_mut(&mut self, id: SeqId) -> Result<&mut Sequence<F::Cache>> {
        self.sequences
            .get_mut(&id)
            .ok_or(ModelError::UnknownSequence(id))
    }

    /// Starts a sequence from token ids.
    pub fn start_tokens(&mut self, tokens: &[u32]) -> Result<SeqId> {
        let cache = self.model.transformer.new_cache()?;
        Ok(self.insert(Sequence {
            cache,
            pending: tokens.to_vec(),
        }))
    }

    /// The text a prompt becomes: the chat template around it when `chat` is on.
    pub fn format_prompt(&self, prompt: &str) -> Result<String> {
        if !self.chat {
            return Ok(prompt.to_string());
        }
        Ok(self
            .model
            .tokenizer
            .apply_chat_template(&user_turn(prompt), true)?)
    }

    /// The tokens a prompt becomes. With the chat template, only the template's control
    /// strings become special tokens; the prompt's own text never does.
    pub fn encode_prompt(&self, prompt: &str) -> Result<Vec<u32>> {
        let tokenizer = &self.model.tokenizer;
        let mut ids: Vec<u32> = tokenizer.prompt_start().into_iter().collect();
        if self.chat {
            ids.extend(tokenizer.encode_chat(&user_turn(prompt), true)?);
        } else {
            ids.extend(tokenizer.encode(prompt, false));
        }
        Ok(ids)
    }

    /// Runs every pending token of the given sequences; returns the last-position logits
    /// of each (for sequences that had pending tokens).
    async fn flush(&mut self, ids: &[SeqId]) -> Result<Vec<Option<Vec<f32>>>> {
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        for id in ids {
            if !self.sequences.contains_key(id) {
                return Err(ModelError::UnknownSequence(*id));
            }
            if !seen.insert(*id) {
                return Err(ModelError::DuplicateSequence(*id));
            }
        }
        let mut taken: Vec<(SeqId, Sequence<F::Cache>)> = ids
            .iter()
            .filter_map(|id| self.sequences.remove(id).map(|s| (*id, s)))
            .collect();
        let result = {
            let mut items: Vec<BatchItem<'_, F::Cache>> = taken
                .iter_mut()
                .map(|(_, s)| BatchItem {
                    wanted: Wanted::last_logits(s.pending.len()),
                    tokens: &s.pending,
                    cache: &mut s.cache,
                })
                .collect();
            self.model.transformer.forward(&mut items).await
        };
        let outputs = match result {
            Ok(o) => o,
            Err(e) => {
                // Put the sequences back unchanged: a pass that stopped part way may have
                // appended keys and values to its first layers, but a cache's length only
                // moves when the pass completes, so cutting back to it undoes that.
                for (id, mut s) in taken {
                    self.model.transformer.roll_back(&mut s.cache);
                    self.sequences.insert(id, s);
                }
                return Err(e);
            }
        };
        let mut logits = Vec::with_capacity(ids.len());
        for ((id, mut s), mut out) in taken.into_iter().zip(outputs) {
            s.pending.clear();
            logits.push(out.logits.pop());
            self.sequences.insert(id, s);
        }
        Ok(logits)
    }

    /// Generates up to `max_tokens` for one sequence (greedy or sampled), stopping at the
    /// end of output; `on_token` receives text as it completes. Returns the token ids.
    pub fn generate(
        &mut self,
        seq: SeqId,
        params: &SamplingParams,
        draw: DrawKey,
        max_tokens: usize,
        on_token: &mut dyn FnMut(&str),
    ) -> Result<Vec<u32>> {
        let mut generated = Vec::new();
        let mut text = Utf8Stream::default();
        for _ in 0..max_tokens {
            let flushed =
                ponder_core::ready::now(self.flush(&[seq])).ok_or(ModelError::MustAwait)?;
            let Some(logits) = flushed?.pop().flatten() else {
                break;
            };
            let position = self.get_mut(seq)?.cache.len() as u64;
            let token = sample(&logits, params, uniform(draw.seed, draw.stream, position));
            if self.is_end(token) {
                break;
            }
            generated.push(token);
            self.get_mut(seq)?.pending.push(token);
            if let Some(bytes) = self.model.tokenizer.token_bytes(token) {
                let piece = text.push(&bytes);
                if !piece.is_empty() {
                    on_token(&piece);
                }
            }
            if self.get_mut(seq)?.cache.len() + 1 >= self.context_length() {
                break;
            }
        }
        Ok(generated)
    }

    fn is_end(&self, token: u32) -> bool {
        Some(token) == self.model.tokenizer.eos_id() || self.model.tokenizer.is_special(token)
    }

    pub fn live_sequences(&self) -> usize {
        self.sequences.len()
    }

    /// The most tokens a sequence can hold (prompt and generated together).
    pub fn context_length(&self) -> usize {
        self.model.transformer.context_length()
    }

    /// The token count of `text` as this model reads it (no chat template).
    pub fn count_tokens(&self, text: &str) -> usize {
        self.model.tokenizer.encode(text, false).len()
    }
}

/// Turns a stream of token bytes into complete UTF-8 text, holding back an incomplete
/// character until its remaining bytes arrive.
#[derive(Default)]
struct Utf8Stream {
    held: Vec<u8>,
}

impl Utf8Stream {
    fn push(&mut self, bytes: &[u8]) -> String {
        self.held.extend_from_slice(bytes);
        match std::str::from_utf8(&self.held) {
            Ok(s) => {
                let out = s.to_string();
                self.held.clear();
                out
            }
            Err(e) => {
                let valid = e.valid_up_to();
                // An invalid sequence (not just an unfinished one) is replaced, never held.
                if e.error_len().is_some() {
                    let out = String::from_utf8_lossy(&self.held).into_owned();
                    self.held.clear();
                    return out;
                }
                let out = String::from_utf8_lossy(&self.held[..valid]).into_owned();
                self.held.drain(..valid);
                out
            }
        }
    }

    fn finish(&mut self) -> String {
        let out = String::from_utf8_lossy(&self.held).into_owned();
        self.held.clear();
        out
    }
}

/// One sequence's progress within a `step` call.
struct StepState {
    seq: SeqId,
    draw: DrawKey,
    text: String,
    line_start: usize,
    utf8: Utf8Stream,
    tokens: usize,
    finish: Option<Finish>,
}

impl<F: Forward> Policy for Engine<F> {
    type Error = ModelError;

    fn start(&mut self, prompt: &str) -> Result<SeqId> {
        let tokens = self.encode_prompt(prompt)?;
        self.start_tokens(&tokens)
    }

    fn fork(&mut self, seq: SeqId) -> Result<SeqId> {
        let source = self
            .sequences
            .get(&seq)
            .ok_or(ModelError::UnknownSequence(seq))?;
        let pending = source.pending.clone();
        let cache = self.model.transformer.fork_cache(&source.cache)?;
        let copy = Sequence { cache, pending };
        Ok(self.insert(copy))
    }

    fn append(&mut self, seq: SeqId, text: &str) -> Result<()> {
        let tokens = self.model.tokenizer.encode(text, false);
        self.get_mut(seq)?.pending.extend(tokens);
        Ok(())
    }

    fn step(
        &mut self,
        requests: &[StepRequest],
        sampling: &Sampling,
        stop: &StopSpec,
        on_token: &mut dyn FnMut(SeqId, &str),
    ) -> Result<Vec<StepOutput>> {
        ponder_core::ready::now(self.step_async(requests, sampling, stop, on_token))
            .unwrap_or(Err(ModelError::MustAwait))
    }

    async fn step_async(
        &mut self,
        requests: &[StepRequest],
        sampling: &Sampling,
        stop: &StopSpec,
        on_token: &mut dyn FnMut(SeqId, &str),
    ) -> Result<Vec<StepOutput>> {
        let params = SamplingParams {
            temperature: sampling.temperature,
            top_k: sampling.top_k,
            top_p: sampling.top_p,
        };
        let mut states: Vec<StepState> = requests
            .iter()
            .map(|r| StepState {
                seq: r.seq,
                draw: r.draw,
                text: String::new(),
                line_start: 0,
                utf8: Utf8Stream::default(),
                tokens: 0,
                finish: None,
            })
            .collect();
        let context = self.context_length();
        loop {
            let live: Vec<usize> = (0..states.len())
                .filter(|&i| states[i].finish.is_none())
                .collect();
            if live.is_empty() {
                break;
            }
            let ids: Vec<SeqId> = live.iter().map(|&i| states[i].seq).collect();
            let logits = self.flush(&ids).await?;
            for (&i, logits) in live.iter().zip(logits) {
                let state = &mut states[i];
                let seq = self
                    .sequences
                    .get_mut(&state.seq)
                    .ok_or(ModelError::UnknownSequence(state.seq))?;
                let Some(logits) = logits else {
                    // Nothing to continue from (an empty sequence): the attempt is over.
                    state.finish = Some(Finish::AnswerEnd);
                    continue;
                };
                let position = seq.cache.len() as u64;
                let token = sample(
                    &logits,
                    &params,
                    uniform(state.draw.seed, state.draw.stream, position),
                );
                let tokenizer = &self.model.tokenizer;
                if Some(token) == tokenizer.eos_id() || tokenizer.is_special(token) {
                    state.finish = Some(Finish::AnswerEnd);
                    continue;
                }
                seq.pending.push(token);
                state.tokens += 1;
                let piece = state
                    .utf8
                    .push(&tokenizer.token_bytes(token).unwrap_or_default());
                if !piece.is_empty() {
                    on_token(state.seq, &piece);
                    state.text.push_str(&piece);
                }
                if let Some(nl) = state.text[state.line_start..].find('\n') {
                    let line = &state.text[state.line_start..state.line_start + nl];
                    let is_answer = stop
                        .answer_prefix
                        .as_deref()
                        .is_some_and(|p| line.trim_start().starts_with(p));
                    if is_answer {
                        state.finish = Some(Finish::AnswerEnd);
                    } else if stop.at_newline {
                        state.finish = Some(Finish::StepEnd);
                    } else {
                        state.line_start += nl + 1;
                    }
                }
                if state.finish.is_none() && state.tokens >= stop.max_tokens {
                    state.finish = Some(Finish::Length);
                }
                state.finish =
                    with_context_limit(state.finish, seq.cache.len() + seq.pending.len(), context);
            }
        }
        Ok(states
            .into_iter()
            .map(|mut s| {
                let rest = s.utf8.finish();
                s.text.push_str(&rest);
                StepOutput {
                    seq: s.seq,
                    text: s.text,
                    tokens: s.tokens,
                    finish: s.finish.unwrap_or(Finish::AnswerEnd),
                }
            })
            .collect())
    }

    fn release(&mut self, seq: SeqId) {
        self.sequences.remove(&seq);
    }

    fn parameters(&self) -> u64 {
        self.model.parameters()
    }

    fn room_after(&self, prompt: &str) -> Option<usize> {
        let used = self.encode_prompt(prompt).ok()?.len();
        Some(self.context_length().saturating_sub(used))
    }
}

impl<F: Forward> Verifier for Engine<F> {
    type Error = ModelError;

    /// Scores every step: the problem is run once, each candidate continues from a copy of
    /// its cache, all candidates in one batch; the head reads the hidden state at each
    /// step's last token (its separator) and, if it weighs likelihood, the log-probability
    /// the PRM's language model gave each of the candidate's tokens.
    ///
    /// Steps that end past the PRM's context cannot be read, so they score 0, the lowest
    /// score: such attempts are runaway text far longer than any solution, and a search
    /// should not lose the rest of its work (or favour them) because of them.
    fn score(&mut self, problem: &str, candidates: &[Vec<String>]) -> Result<Vec<Vec<f32>>> {
        ponder_core::ready::now(self.score_async(problem, candidates))
            .unwrap_or(Err(ModelError::MustAwait))
    }

    async fn score_async(
        &mut self,
        problem: &str,
        candidates: &[Vec<String>],
    ) -> Result<Vec<Vec<f32>>> {
        let head = self.model.prm.clone().ok_or(ModelError::NotAPrm)?;
        let tokenizer = &self.model.tokenizer;
        let mut prefix_text = head.question(problem);
        if !prefix_text.ends_with(&head.separator) {
            prefix_text.push_str(&head.separator);
        }
        let mut prefix: Vec<u32> = tokenizer.prompt_start().into_iter().collect();
        prefix.extend(tokenizer.encode(&prefix_text, false));
        // Steps are tokenized one by one, so a step boundary is always a token boundary.
        let mut inputs: Vec<(Vec<u32>, Vec<usize>)> = Vec::with_capacity(candidates.len());
        for steps in candidates {
            let mut tokens = Vec::new();
            let mut ends = Vec::new();
            for step in steps {
                let mut text = step.clone();
                if !text.ends_with(&head.separator) {
                    text.push_str(&head.separator);
                }
                tokens.extend(tokenizer.encode(&text, false));
                ends.push(tokens.len().saturating_sub(1));
            }
            inputs.push((tokens, ends));
        }
        let context = self.context_length();
        if prefix.len() >= context {
            return Err(ModelError::ContextFull {
                len: prefix.len(),
                max: context,
            });
        }
        let room = context - prefix.len();
        // How many steps of each candidate fit; the rest score 0 below.
        let fitting: Vec<usize> = inputs
            .iter_mut()
            .map(|(tokens, ends)| {
                let fit = ends.iter().take_while(|&&e| e < room).count();
                tokens.truncate(ends.get(fit.wrapping_sub(1)).map_or(0, |&e| e + 1));
                ends.truncate(fit);
                fit
            })
            .collect();
        let likelihood = head.reads_likelihood();
        let mut base = self.model.transformer.new_cache()?;
        let base_out = self
            .model
            .transformer
            .forward(&mut [BatchItem {
                cache: &mut base,
                tokens: &prefix,
                wanted: Wanted {
                    // The prefix's last logits give each candidate's first token its probability.
                    logits: if likelihood {
                        prefix.len().checked_sub(1).into_iter().collect()
                    } else {
                        Vec::new()
                    },
                    hidden: Vec::new(),
                },
            }])
            .await?;
        let first_logits = base_out
            .into_iter()
            .next()
            .and_then(|o| o.logits.into_iter().next())
            .unwrap_or_default();
        let mut caches = Vec::with_capacity(inputs.len());
        for _ in &inputs {
            caches.push(self.model.transformer.fork_cache(&base)?);
        }
        let mut items: Vec<BatchItem<'_, F::Cache>> = caches
            .iter_mut()
            .zip(&inputs)
            .map(|(cache, (tokens, ends))| BatchItem {
                cache,
                tokens,
                wanted: Wanted {
                    // Position t's logits give token t + 1 its probability.
                    logits: if likelihood {
                        (0..tokens.len().saturating_sub(1)).collect()
                    } else {
                        Vec::new()
                    },
                    hidden: if tokens.is_empty() {
                        Vec::new()
                    } else {
                        ends.clone()
                    },
                },
            })
            .collect();
        let outputs = self.model.transformer.forward(&mut items).await?;
        let scored: usize = prefix.len() + inputs.iter().map(|(t, _)| t.len()).sum::<usize>();
        self.last_score_tokens = Some(scored as u64);
        Ok(outputs
            .into_iter()
            .zip(&inputs)
            .zip(candidates)
            .zip(fitting)
            .map(|(((out, (tokens, ends)), steps), fit)| {
                let surprise = if likelihood {
                    let log_probs: Vec<f32> = tokens
                        .iter()
                        .enumerate()
                        .map(|(t, &token)| {
                            let logits = match t {
                                0 => &first_logits[..],
                                _ => &out.logits[t - 1][..],
                            };
                            log_prob(logits, token)
                        })
                        .collect();
                    Surprise::at_step_ends(&log_probs, ends)
                } else {
                    Vec::new()
                };
                let mut scores: Vec<f32> = out
                    .hidden
                    .iter()
                    .enumerate()
                    .map(|(k, h)| head.score(h, surprise.get(k)))
                    .collect();
                debug_assert_eq!(scores.len(), fit);
                scores.resize(steps.len(), 0.0);
                scores
            })
            .collect())
    }

    fn parameters(&self) -> u64 {
        self.model.parameters()
    }

    fn last_score_tokens(&self) -> Option<u64> {
        self.last_score_tokens
    }
}

/// How a step ends once its sequence holds `len` tokens of a `context`-token model. A
/// full sequence can take no further step, so a step that would let the caller continue
/// (none yet, or a plain newline) ends as `ContextFull` instead; an ended attempt keeps its
/// reason. (A newline landing exactly on the last position once ended as `StepEnd`, and
/// the next step then failed with a context error.)
fn with_context_limit(finish: Option<Finish>, len: usize, context: usize) -> Option<Finish> {
    match finish {
        None | Some(Finish::StepEnd) if len >= context => Some(Finish::ContextFull),
        other => other,
    }
}

/// A one-message chat: the user's prompt.
fn user_turn(prompt: &str) -> [ChatMessage; 1] {
    [ChatMessage {
        role: "user".into(),
        content: prompt.to_string(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_stream_holds_back_partial_characters() {
        let mut s = Utf8Stream::default();
        let snowman = "☃".as_bytes();
        assert_eq!(s.push(&snowman[..1]), "");
        assert_eq!(s.push(&snowman[1..2]), "");
        assert_eq!(s.push(&snowman[2..]), "☃");
        assert_eq!(s.push(b"a\xff"), "a\u{FFFD}");
        assert_eq!(s.push(&snowman[..2]), "");
        assert_eq!(s.finish(), "\u{FFFD}");
    }

    #[test]
    fn a_full_sequence_never_ends_a_step_as_if_it_could_go_on() {
        assert_eq!(
            with_context_limit(Some(Finish::StepEnd), 256, 256),
            Some(Finish::ContextFull)
        );
        assert_eq!(
            with_context_limit(None, 256, 256),
            Some(Finish::ContextFull)
        );
        assert_eq!(
            with_context_limit(Some(Finish::AnswerEnd), 256, 256),
            Some(Finish::AnswerEnd)
        );
        assert_eq!(
            with_context_limit(Some(Finish::Length), 300, 256),
            Some(Finish::Length)
        );
        assert_eq!(
            with_context_limit(Some(Finish::StepEnd), 255, 256),
            Some(Finish::StepEnd)
        );
        assert_eq!(with_context_limit(None, 255, 256), None);
    }
}
