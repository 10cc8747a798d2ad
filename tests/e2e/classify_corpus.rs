//! Recall and precision of the classifier over the corpora in `tests/corpus/`.
//!
//! `true_positives.txt` holds true instances of every builtin class and the encoded forms of an
//! `env` secret, each line annotated with the class and count it must produce; `harmless.txt`
//! holds realistic text that must produce no hit at all.

use std::collections::BTreeMap;

use lowpriv::observe::Classifier;
use lowpriv::scenario::{Builtin, DataClass, DataKind, Secret};

/// The value the `env` lines of `true_positives.txt` carry, verbatim and encoded.
const ENV_SECRET: &str = "s3cr3t/Pa ss+W0rd\"x~~?";

/// Every builtin under its own name, plus the `env` secret.
fn classifier() -> Classifier {
    let mut classes: Vec<DataClass> = Builtin::ALL
        .iter()
        .map(|b| DataClass::new(b.as_str(), DataKind::Builtin(*b)))
        .collect();
    classes.push(DataClass::new(
        "env",
        DataKind::Env {
            var: "CORPUS_SECRET".into(),
            value: Secret::new(ENV_SECRET),
        },
    ));
    Classifier::new(&classes)
}

struct Case {
    line: usize,
    class: String,
    count: usize,
    text: String,
}

fn cases(corpus: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for (index, line) in corpus.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((head, text)) = line.split_once(" | ") else {
            panic!("line {}: expected `CLASS COUNT | TEXT`", index + 1);
        };
        if head == "+" {
            let Some(last) = cases.last_mut() else {
                panic!(
                    "line {}: a continuation with nothing to continue",
                    index + 1
                );
            };
            last.text.push('\n');
            last.text.push_str(text);
            continue;
        }
        let Some((class, count)) = head.split_once(' ') else {
            panic!("line {}: expected `CLASS COUNT`", index + 1);
        };
        cases.push(Case {
            line: index + 1,
            class: class.to_string(),
            count: count.parse().expect("a count"),
            text: text.to_string(),
        });
    }
    cases
}

fn counts(classifier: &Classifier, text: &str) -> BTreeMap<String, usize> {
    let (hits, _) = classifier.classify(text, None);
    hits.into_iter().map(|(k, v)| (k, v.count)).collect()
}

#[test]
fn every_true_positive_is_found_alone_and_in_the_whole_corpus() {
    let corpus = include_str!("../corpus/true_positives.txt");
    let cases = cases(corpus);
    let classifier = classifier();
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for case in &cases {
        let got = counts(&classifier, &case.text);
        let want = BTreeMap::from([(case.class.clone(), case.count)]);
        assert_eq!(got, want, "line {}: {}", case.line, case.text);
        *expected.entry(case.class.clone()).or_default() += case.count;
    }
    // Every builtin and the env secret are covered.
    for b in Builtin::ALL {
        assert!(
            expected.get(b.as_str()).is_some_and(|&n| n > 0),
            "no true positive for {}",
            b.as_str()
        );
    }
    assert!(expected["env"] >= 11, "every encoded form of the secret");
    // All at once, as one body: the same totals, nothing else.
    let whole: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(counts(&classifier, &whole.join("\n")), expected);
}

#[test]
fn harmless_text_has_no_hit_at_all() {
    let corpus = include_str!("../corpus/harmless.txt");
    let classifier = classifier();
    let (hits, _) = classifier.classify(corpus, None);
    assert!(hits.is_empty(), "false positives: {hits:#?}");
    // Line by line too: context from a neighbouring line must not be what saves a line.
    for (index, line) in corpus.lines().enumerate() {
        let (hits, _) = classifier.classify(line, None);
        assert!(hits.is_empty(), "line {}: {hits:#?}\n{line}", index + 1);
    }
}

#[test]
fn no_example_carries_a_value() {
    let corpus = include_str!("../corpus/true_positives.txt");
    let classifier = classifier();
    for case in cases(corpus) {
        let (hits, _) = classifier.classify(&case.text, None);
        for (name, hit) in &hits {
            for example in &hit.examples {
                // The rule id in `<aws_access_key, 20 chars>` is not data.
                let example = example.replacen(name.as_str(), "", 1);
                let secret = name == "env" || Builtin::parse(name).is_some_and(Builtin::is_secret);
                if secret {
                    assert!(
                        example.starts_with('<') && example.ends_with('>'),
                        "line {}: a secret example shows more than a shape: {example}",
                        case.line
                    );
                }
                // No 8-character run of the matched text survives into an example.
                let text: Vec<char> = case.text.chars().collect();
                for window in text.windows(8) {
                    let piece: String = window.iter().collect();
                    if piece.chars().any(|c| c.is_ascii_digit()) {
                        assert!(
                            !example.contains(&piece),
                            "line {}: example {example:?} shows {piece:?}",
                            case.line
                        );
                    }
                }
            }
        }
    }
}
