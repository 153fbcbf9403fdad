//! Schema descriptions as rustdoc.
//!
//! The OCPP descriptions are exported from the specification's AsciiDoc and UML model, and carry
//! its markup: a line with the model's business name (`AC_ Charging_ Parameters. Energy_ Amount`)
//! and one with its identifier (`urn:x-oca:ocpp:uid:1:569211`), cross-references
//! `&lt;&lt;target,Label&gt;&gt;` with HTML-escaped angle brackets, AsciiDoc line breaks
//! (` +` at the end of a line) and escaped bars (`\|`). [`clean`] turns that into plain
//! Markdown, and [`write()`] into `///` lines no wider than the rest of the generated code.

use std::fmt::Write as _;

/// Where `///` lines wrap (the generated code's width, as rustfmt's `comment_width`).
const WIDTH: usize = 100;

/// The paragraphs of a description, as Markdown: the identifier lines dropped, the business
/// name's underscores removed, cross-references replaced by their labels, entities decoded and
/// AsciiDoc line breaks made paragraph breaks. `type_name` resolves a cross-reference without
/// a label (`cmn_derunitenumtype`) to the name of a generated type, where one matches.
pub fn clean(text: &str, type_name: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    let mut end_paragraph = |current: &mut String| {
        if !current.is_empty() {
            paragraphs.push(std::mem::take(current));
        }
    };
    for (i, line) in lines.iter().enumerate() {
        if is_uid(line) {
            continue;
        }
        let next_is_uid = lines.get(i + 1).is_some_and(|next| is_uid(next));
        let mut line = inline(line, type_name);
        if next_is_uid {
            // The business name of the model (`Charging_ Schedule. Start_ Schedule. Date_ Time`):
            // its underscores join words of one name, written with spaces here.
            line = line.replace("_ ", " ");
            if !line.ends_with('.') {
                line.push('.');
            }
        }
        let hard_break = line.ends_with(" +") || line == "+";
        let line = line.trim_end_matches('+').trim_end();
        if line.is_empty() || next_is_uid {
            // A business name is a paragraph of its own.
            end_paragraph(&mut current);
        }
        if line.is_empty() {
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(line);
        if hard_break || next_is_uid {
            end_paragraph(&mut current);
        }
    }
    end_paragraph(&mut current);
    paragraphs
}

/// Whether a line is a model identifier (`urn:x-oca:ocpp:uid:1:569211`,
/// `urn:x-enexis:ecdm:uid:2:234489`).
fn is_uid(line: &str) -> bool {
    line.starts_with("urn:x-") && line.contains(":uid:") && !line.contains(' ')
}

/// One line's cross-references, entities, escapes and brackets.
fn inline(line: &str, type_name: &dyn Fn(&str) -> Option<String>) -> String {
    let line = line.replace("&lt;&lt;", "<<").replace("&gt;&gt;", ">>");
    let mut out = String::with_capacity(line.len());
    let mut rest = line.as_str();
    while let Some(start) = rest.find("<<") {
        let Some(len) = rest[start..].find(">>") else {
            break;
        };
        out.push_str(&rest[..start]);
        let reference = &rest[start + 2..start + len];
        match reference.split_once(',') {
            Some((_, label)) => out.push_str(label.trim()),
            None => {
                let target = reference.trim();
                let bare = target.strip_prefix("cmn_").unwrap_or(target);
                match type_name(bare) {
                    Some(name) => {
                        let _ = write!(out, "`{name}`");
                    }
                    None => out.push_str(bare),
                }
            }
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .replace("\\|", "|");
    if let Some(regex) = decoded.strip_prefix("Regex: ") {
        return format!("Regex: `{regex}`");
    }
    markdown_safe(&decoded)
}

/// Keeps rustdoc from reading text as what it is not: a URL becomes an autolink, and the few
/// characters that would start an HTML tag (`<b`) or an intra-doc link (`[RFC5646]`) are
/// escaped. Emphasis (`*`, `_`) and code spans are the specification's own, and stay.
fn markdown_safe(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut in_code = false;
    while i < chars.len() {
        let c = chars[i];
        let at_word_start = i == 0 || chars[i - 1] == ' ' || chars[i - 1] == '(';
        if !in_code && at_word_start && starts_url(&chars[i..]) {
            let end = chars[i..]
                .iter()
                .position(|&c| c == ' ')
                .map_or(chars.len(), |n| i + n);
            let word: String = chars[i..end].iter().collect();
            let url = word.trim_end_matches(['.', ',', ')', ';', ':']);
            let _ = write!(out, "<{url}>{}", &word[url.len()..]);
            i = end;
            continue;
        }
        match c {
            '`' => in_code = !in_code,
            '<' if !in_code
                && chars
                    .get(i + 1)
                    .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')) =>
            {
                out.push('\\');
            }
            '[' | ']' if !in_code && bracketed_path(&chars, i) => out.push('\\'),
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

fn starts_url(chars: &[char]) -> bool {
    let start: String = chars.iter().take(8).collect();
    start.starts_with("http://") || start.starts_with("https://")
}

/// Whether the bracket at `i` belongs to `[name]`, which rustdoc would try as an intra-doc link.
fn bracketed_path(chars: &[char], i: usize) -> bool {
    let is_name = |c: &char| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.');
    // rustdoc tries even a citation (`[22]`) as a link.
    if chars[i] == '[' {
        let len = chars[i + 1..].iter().take_while(|c| is_name(c)).count();
        len > 0 && chars.get(i + 1 + len) == Some(&']')
    } else {
        let len = chars[..i].iter().rev().take_while(|c| is_name(c)).count();
        len > 0 && i > len && chars[i - len - 1] == '['
    }
}

/// Writes paragraphs as `///` lines at `indent`, wrapped at 100 columns, paragraphs separated by
/// an empty `///` line.
pub fn write(out: &mut String, indent: &str, paragraphs: &[String]) {
    for (n, paragraph) in paragraphs.iter().enumerate() {
        if n > 0 {
            let _ = writeln!(out, "{indent}///");
        }
        let room = WIDTH.saturating_sub(indent.len() + 4).max(40);
        // A list item's continuation lines are indented under its text.
        let hang = " ".repeat(list_marker(paragraph));
        for (i, line) in wrap(paragraph, room - hang.len()).iter().enumerate() {
            let hang = if i == 0 { "" } else { hang.as_str() };
            let _ = writeln!(out, "{indent}/// {hang}{line}");
        }
    }
}

/// The width of the list marker that `paragraph` starts with (`* `, `- `, `1. `), or 0.
fn list_marker(paragraph: &str) -> usize {
    if ["* ", "- ", "+ "].iter().any(|m| paragraph.starts_with(m)) {
        return 2;
    }
    let digits = paragraph.chars().take_while(char::is_ascii_digit).count();
    let rest = &paragraph[digits..];
    if digits > 0 && (rest.starts_with(". ") || rest.starts_with(") ")) {
        digits + 2
    } else {
        0
    }
}

/// Word-wraps `text` at `width` columns (counted in characters). A line never starts with
/// what Markdown would read as a list item, a heading or a quote.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let fits = line.chars().count() + 1 + word.chars().count() <= width;
        if line.is_empty() || fits || !may_start_line(word) {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        } else {
            lines.push(std::mem::take(&mut line));
            line.push_str(word);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Whether a wrapped line may begin with `word` and mean the same in Markdown.
fn may_start_line(word: &str) -> bool {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) if c.is_ascii_digit() => !word
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .starts_with(['.', ')']),
        Some('-' | '*' | '+' | '#' | '>' | '=' | '|' | '~') => false,
        Some(_) => true,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_types(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn identifiers_go_and_business_names_read_as_words() {
        let text = "AC_ Charging_ Parameters. Energy_ Amount. Energy_ Amount\r\n\
                    urn:x-oca:ocpp:uid:1:569211\r\nAmount of energy requested (in Wh).\r\n\
                    Charging_ Limit\r\nurn:x-enexis:ecdm:uid:2:234489\r\nA limit.";
        assert_eq!(
            clean(text, &no_types),
            [
                "AC Charging Parameters. Energy Amount. Energy Amount.",
                "Amount of energy requested (in Wh).",
                "Charging Limit.",
                "A limit."
            ]
        );
    }

    #[test]
    fn cross_references_become_their_labels() {
        let types = |name: &str| (name == "derunitenumtype").then(|| "DERUnitEnumType".to_owned());
        let text = "When &lt;&lt;cmn_registrationstatusenumtype,Status&gt;&gt; is Accepted, \
                    see &lt;&lt;ref-RFC5646,[RFC5646]&gt;&gt; and &lt;&lt;cmn_derunitenumtype&gt;&gt; \
                    &amp; &lt;&lt;configkey-currency,`Currency`&gt;&gt;; a &lt; b.";
        assert_eq!(
            clean(text, &types),
            [
                "When Status is Accepted, see \\[RFC5646\\] and `DERUnitEnumType` & `Currency`; a < b."
            ]
        );
    }

    #[test]
    fn asciidoc_breaks_and_escapes() {
        let text =
            "Start time. +\r\nFormat: hh:mm +\r\nRegex: ([0-1][0-9]\\|2[0-3]):[0-5][0-9]\r\n";
        assert_eq!(
            clean(text, &no_types),
            [
                "Start time.",
                "Format: hh:mm",
                "Regex: `([0-1][0-9]|2[0-3]):[0-5][0-9]`"
            ]
        );
        assert_eq!(
            markdown_safe("see https://a.b/c. and <b>"),
            "see <https://a.b/c>. and \\<b>"
        );
        assert_eq!(
            markdown_safe("_italic_ *bold* [0-1] [22]"),
            "_italic_ *bold* [0-1] \\[22\\]"
        );
    }

    #[test]
    fn wrapping_keeps_markdown_meaning() {
        let lines = wrap("aaaa bbbb * 10 cccc - dddd 1. eeee", 9);
        assert_eq!(lines, ["aaaa bbbb *", "10 cccc -", "dddd 1.", "eeee"]);
        let mut out = String::new();
        write(
            &mut out,
            "    ",
            &["one two".to_owned(), "three".to_owned()],
        );
        assert_eq!(out, "    /// one two\n    ///\n    /// three\n");
        let mut out = String::new();
        let item = format!("* {}", ["word"; 30].join(" "));
        write(&mut out, "", &[item]);
        assert!(
            out.lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("///   word")),
            "{out}"
        );
        assert_eq!(
            (
                list_marker("12. x"),
                list_marker("-x"),
                list_marker("1.5 V")
            ),
            (4, 0, 0)
        );
    }
}
