//! Chat templates, recognised rather than executed.
//!
//! `tokenizer.chat_template` is a Jinja program. A Jinja engine is a large dependency for
//! the browser bundle, and the models Ponder runs all use one format, ChatML:
//!
//! ```text
//! <|im_start|>{role}\n{content}<|im_end|>\n      (per message)
//! <|im_start|>assistant\n                        (the generation prompt)
//! ```
//!
//! So the template is classified once, at load: a template that mentions `<|im_start|>`
//! is ChatML, anything else is reported as unsupported when a chat is rendered. ChatML
//! templates differ in one way that matters for plain chats: some (SmolLM2, Qwen2.5)
//! insert a default system message when the conversation does not start with one. That
//! text is read out of the template's own string literals, so a new ChatML model with its
//! own default prompt needs no code change.

use super::{ChatMessage, TokenizerError};

const IM_START: &str = "<|im_start|>";
const IM_END: &str = "<|im_end|>";

/// A classified `tokenizer.chat_template`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatTemplate {
    /// The model has no template (usually a base model).
    Missing,
    /// ChatML, with the system message the template inserts when the chat has none.
    ChatMl { default_system: Option<String> },
    /// A template Ponder cannot render; the text says why, for the error message.
    Unsupported(String),
}

impl ChatTemplate {
    pub fn classify(template: Option<&str>) -> ChatTemplate {
        let Some(template) = template else {
            return ChatTemplate::Missing;
        };
        if !template.contains(IM_START) {
            return ChatTemplate::Unsupported(describe(template));
        }
        ChatTemplate::ChatMl {
            default_system: default_system_message(template),
        }
    }

    pub fn is_supported(&self) -> bool {
        matches!(self, ChatTemplate::ChatMl { .. })
    }

    pub fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String, TokenizerError> {
        Ok(self
            .pieces(messages, add_generation_prompt)?
            .iter()
            .map(|piece| match piece {
                ChatPiece::Control(s) => *s,
                ChatPiece::Text(t) => t.as_str(),
            })
            .collect())
    }

    /// The rendered chat as the template's own control strings and the text between
    /// them, so that only the control strings are encoded as special tokens: a message
    /// that contains `<|im_end|>` stays text and cannot end its turn.
    pub fn pieces(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<Vec<ChatPiece>, TokenizerError> {
        let default_system = match self {
            ChatTemplate::ChatMl { default_system } => default_system.as_deref(),
            ChatTemplate::Missing => return Err(TokenizerError::NoChatTemplate),
            ChatTemplate::Unsupported(what) => {
                return Err(TokenizerError::UnsupportedChatTemplate(what.clone()))
            }
        };
        let mut out = Vec::new();
        let starts_with_system = messages.first().is_some_and(|m| m.role == "system");
        if let (Some(system), false) = (default_system, starts_with_system) {
            push_turn(&mut out, "system", system);
        }
        for message in messages {
            push_turn(&mut out, &message.role, &message.content);
        }
        if add_generation_prompt {
            out.push(ChatPiece::Control(IM_START));
            out.push(ChatPiece::Text("assistant\n".into()));
        }
        Ok(out)
    }
}

/// A part of a rendered chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatPiece {
    /// One of the template's control strings (`<|im_start|>`, `<|im_end|>`).
    Control(&'static str),
    /// Text between them: a role line and a message's content, as they are.
    Text(String),
}

/// A turn. The role, its newline and the content are one piece of text, as they are one
/// stretch of text between control tokens in the whole rendered string.
fn push_turn(out: &mut Vec<ChatPiece>, role: &str, content: &str) {
    out.push(ChatPiece::Control(IM_START));
    out.push(ChatPiece::Text(format!("{role}\n{content}")));
    out.push(ChatPiece::Control(IM_END));
    out.push(ChatPiece::Text("\n".into()));
}

/// A short description of an unsupported template for the error message: its start.
fn describe(template: &str) -> String {
    const SHOWN: usize = 60;
    let head: String = template.chars().take(SHOWN).collect();
    let more = if template.chars().nth(SHOWN).is_some() {
        "…"
    } else {
        ""
    };
    format!(
        "not ChatML (no `{IM_START}`); it starts with {:?}{more}",
        head
    )
}

/// Finds a string literal in the template of the form
/// `'<|im_start|>system\n<text><|im_end|>…'` where `<text>` is plain text, and returns
/// the text with Jinja's string escapes resolved.
///
/// Templates that build the system turn from `messages[0]['content']` also contain
/// `<|im_start|>system`, but what follows there is the end of the literal and an
/// expression, so a candidate whose text contains the literal's closing quote or a Jinja
/// delimiter is skipped and the search goes on.
fn default_system_message(template: &str) -> Option<String> {
    let marker = format!("{IM_START}system");
    let mut from = 0;
    while let Some(found) = template[from..].find(&marker) {
        let start = from + found;
        from = start + marker.len();
        let quote = match template[..start].chars().next_back() {
            Some(q @ ('\'' | '"')) => q,
            _ => continue,
        };
        let after = &template[from..];
        // The newline after the role is either a real one (SmolLM2's template spans
        // lines) or the escape `\n` inside the literal (Qwen2.5's).
        let Some(body) = after
            .strip_prefix('\n')
            .or_else(|| after.strip_prefix("\\n"))
        else {
            continue;
        };
        let Some(end) = body.find(IM_END) else {
            continue;
        };
        if let Some(text) = unescape_literal(&body[..end], quote) {
            return Some(text);
        }
    }
    None
}

/// Resolves Jinja string-literal escapes in `raw`, or `None` if `raw` is not wholly inside
/// one literal delimited by `quote` (it contains the unescaped quote or a `{{`/`{%`).
fn unescape_literal(raw: &str, quote: char) -> Option<String> {
    if raw.contains("{{") || raw.contains("{%") {
        return None;
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                other => out.push(other),
            },
            c if c == quote => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    // Qwen2.5-Instruct's template (the tool-calling branches shortened): the default
    // prompt appears twice, once without the ChatML wrapper, and the system turn is also
    // built from `messages[0]['content']`.
    const QWEN25: &str = r#"{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\n<tools>" }}
    {{- "\n</tools><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"#;

    const PLAIN_CHATML: &str = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    fn msg(role: &str, content: &str) -> ChatMessage {
        ChatMessage {
            role: role.into(),
            content: content.into(),
        }
    }

    #[test]
    fn default_system_messages_come_from_the_template() {
        assert_eq!(
            default_system_message(SMOLLM2).as_deref(),
            Some("You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        );
        assert_eq!(
            default_system_message(QWEN25).as_deref(),
            Some("You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
        );
        assert_eq!(default_system_message(PLAIN_CHATML), None);
        assert_eq!(
            default_system_message(r#"{{ "<|im_start|>system\nIt\'s \"me\"<|im_end|>\n" }}"#)
                .as_deref(),
            Some("It's \"me\"")
        );
    }

    #[test]
    fn renders_chatml_with_the_default_system_turn() {
        let template = ChatTemplate::classify(Some(SMOLLM2));
        assert!(template.is_supported());
        let text = template.render(&[msg("user", "Hi")], true).unwrap();
        assert_eq!(
            text,
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging \
             Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn an_explicit_system_turn_replaces_the_default() {
        let template = ChatTemplate::classify(Some(QWEN25));
        let chat = [
            msg("system", "Be brief."),
            msg("user", "2+2?"),
            msg("assistant", "4"),
        ];
        assert_eq!(
            template.render(&chat, false).unwrap(),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n\
             <|im_start|>assistant\n4<|im_end|>\n"
        );
    }

    #[test]
    fn plain_chatml_adds_nothing() {
        let template = ChatTemplate::classify(Some(PLAIN_CHATML));
        assert_eq!(
            template.render(&[msg("user", "x")], false).unwrap(),
            "<|im_start|>user\nx<|im_end|>\n"
        );
    }

    #[test]
    fn other_families_and_missing_templates_are_errors() {
        let llama3 = "{% for message in messages %}<|start_header_id|>{{ message['role'] }}";
        let template = ChatTemplate::classify(Some(llama3));
        assert!(!template.is_supported());
        let err = template.render(&[msg("user", "x")], true).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("unsupported") && text.contains("start_header_id"),
            "{text}"
        );
        let err = ChatTemplate::classify(None).render(&[], true).unwrap_err();
        assert!(matches!(err, TokenizerError::NoChatTemplate));
    }
}
