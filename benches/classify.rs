//! Classification throughput: `cargo bench --bench classify`.
//!
//! Builds a ~10 MB mixed corpus in memory (HTML pages with tables, JSON API answers, minified
//! JS bundles and plain text, with planted instances of every builtin class, canaries and env
//! secrets), cut into bodies of realistic size, and classifies it with every builtin, 100
//! canaries, 2 env secrets and a `json_keys` class configured. Prints MB/s on one core and the
//! hit counts. Nothing touches the network.

use std::collections::BTreeMap;
use std::time::Instant;

use lowpriv::observe::Classifier;
use lowpriv::scenario::{Builtin, DataClass, DataKind, Secret};

const TARGET_BYTES: usize = 10 * 1024 * 1024;
const ROUNDS: usize = 10;

/// A small deterministic generator, so every run classifies the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn token(&mut self, n: usize) -> String {
        const AL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| char::from(AL[(self.next() % AL.len() as u64) as usize]))
            .collect()
    }
}

const PLANTED: &[&str] = &[
    "ann@acme.example",
    "+44 20 7946 0958",
    "4111 1111 1111 1111",
    "GB82 WEST 1234 5698 7654 32",
    "123-45-6789",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2PoLTJkq8Xz2Lp0Rk4Vn7Ws5Jt1\n-----END RSA PRIVATE KEY-----",
    "AKIAZ4Q7XK2M5N3P6R7T",
    "ghp_Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2",
    "glpat-Qw3Er5Ty7Ui9Op1As2Df",
    "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc9Q",
    "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "sk-Qw3Er5Ty7Ui9Op1As2Df4Gh6Jk8Lz0Xc2Vb4Nm6Qw3Er5Ty7",
    "postgres://app:Zr8pq1Lk@db.internal:5432/app",
    "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
    "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQxMjM0$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
    "pbkdf2_sha256$870000$LM5tLFJ8LT3CorWZTiQ6Cl$vDhl7AtxBVrx68wjPkatwfTo9lxhccSK28c/komQsSA=",
    "scrypt$16384$iIsQmDTaIz9MNWvcjCe3Xo$8$1$hql9OB7nH1OdamCncfOj/THvxTNt+QzX6XVBqgP9MMfyuAz4KvSCUHlO06y+pMPi2JkI/BfJvQBvoU07jRvuPQ==",
    "$6$brAU3QTvzD9DF0pH$aEJFVXHPGThXLijv43QcYgLWfDJX3GTab5yWigg0l25I4OVSQbuREhYgbt0WUOl257vwgla0E79t09s96AmqBo",
    "api_key = \"q8Xz2Lp0Rk4Vn7Ws5Jt1\"",
    "CANARY-0042-ALICE",
    "bench-env-secret-one",
    "YmVuY2gtZW52LXNlY3JldC10d28",
];

const FILLER: &[&str] = &[
    "The quarterly report covers headcount, attrition and open positions across all teams.",
    "Build 2026-11-01T12:30:45Z v2.10.0-rc.1 sha e3c2b0b1a9d8f7e6c5b4a3928171605f4e3d2c1b",
    "request 3f9c2b1e-8d7a-4c5b-9e1f-2a3b4c5d6e7f took 42 ms; order ORD-2026-000123 shipped",
    "Bitte prüfen Sie die Angaben — コンテンツ — données personnelles — 数据",
    "Totals: 1,234,567.89 EUR; 4.1% attrition; ratio 0.3333; IP 192.168.100.200:8080",
];

fn html(rng: &mut Rng, out: &mut String) {
    out.push_str("<!doctype html><html><head><title>Employees</title><link rel=stylesheet href=/static/app.3f9c2b1e.css></head><body><nav><a href=/>Home</a> <a href=/payroll>Payroll</a></nav><main><h1>Employees</h1><table><thead><tr><th>Name</th><th>Email</th><th>Salary</th></tr></thead><tbody>");
    for _ in 0..40 {
        let name = rng.token(8);
        out.push_str(&format!(
            "<tr><td>{name}</td><td>{name}@acme.example</td><td>{}</td></tr>",
            50_000 + rng.next() % 100_000
        ));
    }
    out.push_str("</tbody></table><p>");
    out.push_str(rng.pick(FILLER));
    out.push(' ');
    out.push_str(rng.pick(PLANTED));
    out.push_str("</p></main><footer>Acme</footer></body></html>\n");
}

fn json(rng: &mut Rng, out: &mut String) {
    out.push_str("{\"employees\":[");
    for i in 0..40 {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            "{{\"id\":\"{}\",\"name\":\"{}\",\"salary\":{},\"updated\":\"2026-11-01T12:30:45Z\",\"note\":\"{}\"}}",
            rng.token(12),
            rng.token(8),
            50_000 + rng.next() % 100_000,
            rng.pick(FILLER)
        ));
    }
    out.push_str(&format!(
        "],\"meta\":{{\"page\":1,\"x\":{}}}}}\n",
        serde_json::Value::String(rng.pick(PLANTED).to_string())
    ));
}

fn js(rng: &mut Rng, out: &mut String) {
    for _ in 0..30 {
        out.push_str(&format!(
            "!function(e){{var t={{}};function n(r){{if(t[r])return t[r].exports;var o=t[r]={{i:r,l:!1,exports:{{}}}};return e[r].call(o.exports,o,o.exports,n),o.l=!0,o.exports}}n.m=e,n.c=t,n.p=\"/static/{}.js\"}}([]);",
            rng.token(8)
        ));
        out.push_str("const a=async(e,t)=>{const r=await fetch(\"/api/login\",{method:\"POST\",body:JSON.stringify({username:e,password:t})});return r.ok?r.json():null};");
    }
    out.push_str(&format!("var cfg={:?};\n", rng.pick(PLANTED)));
}

fn text(rng: &mut Rng, out: &mut String) {
    for _ in 0..40 {
        out.push_str(rng.pick(FILLER));
        out.push('\n');
    }
    out.push_str(rng.pick(PLANTED));
    out.push('\n');
}

fn main() {
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    // Bodies of 3-10 KB, as pages and API answers are, cycling through the four kinds.
    let mut bodies: Vec<(String, Option<serde_json::Value>)> = Vec::new();
    let mut total = 0;
    while total < TARGET_BYTES {
        let mut body = String::new();
        match bodies.len() % 4 {
            0 => html(&mut rng, &mut body),
            1 => json(&mut rng, &mut body),
            2 => js(&mut rng, &mut body),
            _ => text(&mut rng, &mut body),
        }
        total += body.len();
        let parsed = serde_json::from_str(&body).ok();
        bodies.push((body, parsed));
    }

    let mut classes: Vec<DataClass> = Builtin::ALL
        .iter()
        .map(|b| DataClass::new(b.as_str(), DataKind::Builtin(*b)))
        .collect();
    for i in 0..100 {
        classes.push(DataClass::new(
            &format!("canary-{i:03}"),
            DataKind::Text(format!("CANARY-{i:04}-ALICE")),
        ));
    }
    for (name, value) in [
        ("env-one", "bench-env-secret-one"),
        ("env-two", "bench-env-secret-two"),
    ] {
        classes.push(DataClass::new(
            name,
            DataKind::Env {
                var: name.to_uppercase(),
                value: Secret::new(value),
            },
        ));
    }
    classes.push(DataClass::new(
        "salary",
        DataKind::JsonKeys(vec!["salary".into()]),
    ));
    let started = Instant::now();
    let classifier = Classifier::new(&classes);
    let build = started.elapsed();

    let mut rounds: Vec<f64> = Vec::with_capacity(ROUNDS);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for round in 0..ROUNDS {
        let started = Instant::now();
        let mut round_counts: BTreeMap<String, usize> = BTreeMap::new();
        for (body, json) in &bodies {
            let (hits, _) = classifier.classify(body, json.as_ref());
            for (name, hit) in hits {
                *round_counts.entry(name).or_default() += hit.count;
            }
        }
        rounds.push(started.elapsed().as_secs_f64());
        if round == 0 {
            counts = round_counts;
        }
    }
    rounds.sort_by(f64::total_cmp);
    let best = rounds[0];
    let median = rounds[ROUNDS / 2];
    // The same without the HTML-table reading, which parses every page that has a table.
    classes.pop();
    let no_tables = Classifier::new(&classes);
    let mut no_tables_secs = f64::MAX;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for (body, json) in &bodies {
            std::hint::black_box(no_tables.classify(body, json.as_ref()));
        }
        no_tables_secs = no_tables_secs.min(started.elapsed().as_secs_f64());
    }

    // Where the time goes: each kind of class alone.
    let time = |classes: &[DataClass]| {
        let classifier = Classifier::new(classes);
        let mut best = f64::MAX;
        for _ in 0..ROUNDS {
            let started = Instant::now();
            for (body, json) in &bodies {
                std::hint::black_box(classifier.classify(body, json.as_ref()));
            }
            best = best.min(started.elapsed().as_secs_f64());
        }
        best
    };
    let builtins_only: Vec<DataClass> = classes
        .iter()
        .filter(|c| matches!(c.kind, DataKind::Builtin(_)))
        .cloned()
        .collect();
    let literals_only: Vec<DataClass> = classes
        .iter()
        .filter(|c| matches!(c.kind, DataKind::Text(_) | DataKind::Env { .. }))
        .cloned()
        .collect();
    let builtins_where = |keep: &dyn Fn(Builtin) -> bool| -> Vec<DataClass> {
        Builtin::ALL
            .into_iter()
            .filter(|b| keep(*b))
            .map(|b| DataClass::new(b.as_str(), DataKind::Builtin(b)))
            .collect()
    };
    let keywordless = |b: Builtin| {
        matches!(
            b,
            Builtin::CreditCard | Builtin::Iban | Builtin::UsSsn | Builtin::Phone
        )
    };
    let parts = [
        ("nothing configured (JSON key paths only)", time(&[])),
        ("builtin rules only", time(&builtins_only)),
        (
            "  keywordless rules only (card, IBAN, SSN, phone)",
            time(&builtins_where(&keywordless)),
        ),
        (
            "  email only",
            time(&builtins_where(&|b| b == Builtin::Email)),
        ),
        (
            "  keyword secret rules only",
            time(&builtins_where(&|b| !keywordless(b) && b != Builtin::Email)),
        ),
        (
            "    of which generic_secret alone",
            time(&builtins_where(&|b| b == Builtin::GenericSecret)),
        ),
        ("canaries and env secrets only", time(&literals_only)),
        (
            "json_keys only (JSON keys and HTML tables)",
            time(&[DataClass::new(
                "salary",
                DataKind::JsonKeys(vec!["salary".into()]),
            )]),
        ),
    ];

    let mb = total as f64 / 1_000_000.0;
    println!(
        "classify: {mb:.1} MB in {} bodies; {} builtins, 100 canaries, 2 env secrets, 1 json_keys class",
        bodies.len(),
        Builtin::ALL.len()
    );
    println!("  classifier built in {:.1} ms", build.as_secs_f64() * 1e3);
    println!(
        "  throughput: {:.0} MB/s (best of {ROUNDS}, one core, {:.1} ms per pass; median {:.0} MB/s)",
        mb / best,
        best * 1e3,
        mb / median
    );
    println!(
        "  without HTML tables read as records: {:.0} MB/s",
        mb / no_tables_secs
    );
    for (label, secs) in parts {
        println!("  {label}: {:.0} MB/s", mb / secs);
    }
    println!("  hits:");
    for b in Builtin::ALL {
        println!(
            "    {:<20} {}",
            b.as_str(),
            counts.get(b.as_str()).copied().unwrap_or(0)
        );
    }
    let canaries: usize = counts
        .iter()
        .filter(|(k, _)| k.starts_with("canary-"))
        .map(|(_, v)| v)
        .sum();
    println!("    {:<20} {canaries}", "canaries (100)");
    for name in ["env-one", "env-two", "salary"] {
        println!(
            "    {:<20} {}",
            name,
            counts.get(name).copied().unwrap_or(0)
        );
    }
    let missing: Vec<&str> = Builtin::ALL
        .iter()
        .map(|b| b.as_str())
        .filter(|b| !counts.contains_key(*b))
        .collect();
    assert!(missing.is_empty(), "planted classes not found: {missing:?}");
}
