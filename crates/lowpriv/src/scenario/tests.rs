//! Table cases for every kind of problem, rendered snapshots, the demo scenario, secrecy of
//! rendered output, and the examples in `docs/scenario.md`.

use std::path::Path;

use super::*;

fn env(var: &str) -> Option<String> {
    match var {
        "DEMO_ALICE_PASSWORD" => Some("alice-pw-0001".into()),
        "DEMO_BOB_PASSWORD" => Some("bob-pw-0002".into()),
        "DEMO_CAROL_PASSWORD" => Some("carol-pw-0003".into()),
        "DEMO_DAVE_PASSWORD" => Some("dave-pw-0004".into()),
        "DB_PASSWORD" => Some("db-secret-0005".into()),
        "SHORT" => Some("Qx7".into()),
        "HR_URL" | "DEMO_HR_URL" => Some("http://127.0.0.1:8081".into()),
        "DEMO_HR_ALICE_TOKEN"
        | "DEMO_HR_BOB_TOKEN"
        | "DEMO_HR_CAROL_TOKEN"
        | "DEMO_HR_DAVE_TOKEN" => Some("hr-token-0006".into()),
        "HR_ALICE_TOKEN" => Some("hr-alice-token-0006".into()),
        _ => None,
    }
}

/// Six lines every fragment case is appended to: a valid minimal scenario.
const BASE: &str = "[site]
name = \"s\"
base_url = \"https://x.example\"
[[identity]]
name = \"anon\"
tier = \"external\"
";
const BASE_LINES: usize = 6;

fn ok(source: &str) -> Scenario {
    match parse(source, Path::new("scenario.toml"), &env) {
        Ok(s) => s,
        Err(e) => panic!("expected a valid scenario, got:\n{e}\n--- source:\n{source}"),
    }
}

fn errors(source: &str) -> Diagnostics {
    match parse(source, Path::new("scenario.toml"), &env) {
        Ok(_) => panic!("expected problems in:\n{source}"),
        Err(ScenarioError::Invalid(d)) => d,
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

fn rendered(source: &str) -> String {
    errors(source).to_string()
}

/// (fragment appended to BASE, message, line within the fragment, column, problem count)
const FRAGMENTS: &[(&str, &str, usize, usize, usize)] = &[
    // 2. unknown keys at every level
    (
        "[crawl]\nmax_requets = 50",
        "unknown key `max_requets` in [crawl]",
        2,
        1,
        1,
    ),
    (
        "[sesion]\nlogin_path = \"/login\"",
        "unknown key `sesion` in the top level",
        1,
        2,
        1,
    ),
    (
        "[session]\nlogin_pth = \"/login\"",
        "unknown key `login_pth` in [session]",
        2,
        1,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\nrnak = 5",
        "unknown key `rnak` in [[identity]]",
        4,
        1,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nbearer = \"${DB_PASSWORD}\"\nverfy = { path = \"/me\" }",
        "unknown key `verfy` in [identity.login]",
        6,
        1,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nbearer = \"${DB_PASSWORD}\"\nverify = { path = \"/me\", contain = \"bob\" }",
        "unknown key `contain` in [identity.login] verify",
        6,
        26,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nbasic = { user = \"bob\", pasword = \"${DB_PASSWORD}\" }",
        "`password` is required in [identity.login] basic",
        5,
        9,
        2,
    ),
    (
        "[data.x]\ntext = \"CANARY-1\"\nbelong_to = \"anon\"",
        "unknown key `belong_to` in [data.x]",
        3,
        1,
        1,
    ),
    (
        "[[expect]]\npaths = [\"/a\"]\nallow = [\"anon\"]\nmin_rnak = 3",
        "unknown key `min_rnak` in [[expect]]",
        4,
        1,
        1,
    ),
    // 3. types, choices, ranges
    (
        "[crawl]\nmax_depth = \"8\"",
        "`max_depth` must be an integer",
        2,
        13,
        1,
    ),
    (
        "[crawl]\npresentation_params = [\"view\"]\ndata_params = [\"view\"]",
        "`view` is in both `presentation_params` and `data_params`",
        3,
        17,
        1,
    ),
    (
        "[crawl]\ndata_params = [\"a=b\"]",
        "`data_params` holds query keys, and `a=b` cannot be one",
        2,
        17,
        1,
    ),
    (
        "[crawl]\nseeds = \"/\"",
        "`seeds` must be an array of strings",
        2,
        9,
        1,
    ),
    (
        "[crawl]\nscope = [\"/**\", 3]",
        "`scope` must be an array of strings, but holds an integer",
        2,
        17,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"admn\"",
        "unknown tier `admn`",
        3,
        9,
        1,
    ),
    (
        "[data.x]\nbuiltin = \"emial\"",
        "unknown builtin `emial`",
        2,
        12,
        1,
    ),
    (
        "[crawl]\nconcurrency = 0",
        "`concurrency` must be at least 1",
        2,
        15,
        1,
    ),
    (
        "[crawl]\nrate_limit = 0",
        "`rate_limit` must be at least 1",
        2,
        14,
        1,
    ),
    (
        "[crawl]\nmax_requests = 0",
        "`max_requests` must be at least 1",
        2,
        16,
        1,
    ),
    (
        "[crawl]\ntimeout_secs = 0",
        "`timeout_secs` must be at least 1",
        2,
        16,
        1,
    ),
    (
        "[crawl]\nmax_body_bytes = 1000",
        "`max_body_bytes` must be at least 1024",
        2,
        18,
        1,
    ),
    (
        "[crawl]\nerror_budget_percent = 101",
        "`error_budget_percent` must be at most 100",
        2,
        24,
        1,
    ),
    (
        "[crawl]\nmax_depth = -1",
        "`max_depth` must be at least 0",
        2,
        13,
        1,
    ),
    // 4. identities
    (
        "[[identity]]\nname = \"bo b\"\ntier = \"team\"",
        "invalid identity name `bo b`",
        2,
        9,
        1,
    ),
    (
        "[[identity]]\nname = \"anon\"\ntier = \"team\"",
        "identity `anon` is declared twice",
        2,
        9,
        1,
    ),
    (
        "[[identity]]\nname = \"team\"\ntier = \"team\"",
        "identity name `team` is also a tier name",
        2,
        9,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"",
        "`tier` is required in [[identity]]",
        1,
        1,
        1,
    ),
    // 5. logins
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nverify = { path = \"/me\" }",
        "[identity.login] has no login method",
        4,
        1,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nbearer = \"${DB_PASSWORD}\"\ncookie = \"sid=${DB_PASSWORD}\"",
        "`cookie` conflicts with `bearer` in [identity.login]",
        6,
        1,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nform = \"/login\"",
        "`form` needs a `fields` table",
        5,
        1,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nbearer = \"${DB_PASSWORD}\"\nfields = { a = \"b\" }",
        "`fields` only goes with `form` or `json`",
        6,
        1,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nform = \"login\"\nfields = { user = \"bob\", password = \"${DB_PASSWORD}\" }",
        "`form` must be a path starting with `/`",
        5,
        9,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nbearer = \"${DB_PASSWORD}\"\nverify = { path = \"me\" }",
        "`verify.path` must be a path starting with `/`",
        6,
        20,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nbearer = \"${DB_PASSWORD}\"\nverify = { contains = \"bob\" }",
        "`path` is required in [identity.login] verify",
        6,
        10,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nbearer = \"abc123\"",
        "`bearer` of identity `bob` is a literal secret",
        5,
        10,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nform = \"/login\"\nfields = { user = \"bob\", pin = \"1234\" }",
        "`pin` of identity `bob` is a literal secret",
        6,
        32,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nheaders = { \"X-Api\" = \"abc\" }",
        "`X-Api` of identity `bob` is a literal secret",
        5,
        23,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\ncookie = \"sid=${NOPE}\"",
        "environment variable `NOPE` is not set",
        5,
        15,
        1,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nform = \"/login\"\nfields = { user = \"${WHO}\", password = \"${PW}\" }",
        "environment variable `WHO` is not set",
        6,
        20,
        2,
    ),
    (
        "[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nbearer = \"${BAD-NAME}\"",
        "malformed variable reference in `bearer`",
        5,
        10,
        1,
    ),
    // 6. data classes
    (
        "[data.x]\nbelongs_to = \"anon\"",
        "[data.x] has no detector",
        1,
        1,
        1,
    ),
    (
        "[data.x]\ntext = \"CANARY-1\"\nbuiltin = \"email\"",
        "`builtin` conflicts with `text` in [data.x]",
        3,
        1,
        1,
    ),
    (
        "[data.x]\njson_keys = []",
        "`json_keys` must not be empty",
        2,
        13,
        1,
    ),
    ("[data.x]\ntext = \"\"", "`text` must not be empty", 2, 9, 1),
    (
        "[data.x]\nenv = \"UNSET_VAR\"",
        "environment variable `UNSET_VAR` is not set",
        2,
        8,
        1,
    ),
    (
        "[data.x]\nenv = \"SHORT\"",
        "the value of `SHORT` is shorter than 8 characters",
        2,
        8,
        1,
    ),
    // `pattern`: a malformed regex points at the character the regex crate names when the
    // source holds the pattern verbatim, else at the string.
    (
        "[data.x]\npattern = 'TCK-(0-9]{5}'",
        "invalid regular expression in `pattern`",
        2,
        16,
        1,
    ),
    (
        "[data.x]\npattern = \"a\\\\d{2\"",
        "invalid regular expression in `pattern`",
        2,
        12,
        1,
    ),
    (
        "[data.x]\npattern = 'x*'",
        "`pattern` matches the empty string",
        2,
        12,
        1,
    ),
    (
        "[data.x]\npattern = '(?:\\w{100}){100}'",
        "`pattern` is too large",
        2,
        12,
        1,
    ),
    (
        "[data.x]\nbuiltin = \"email\"\nsecret = true",
        "`secret` only goes with `pattern`",
        3,
        10,
        1,
    ),
    (
        "[data.x]\npattern = 'TCK-[0-9]{5}'\nsecret = \"yes\"",
        "`secret` must be true or false",
        3,
        10,
        1,
    ),
    (
        "[data.x]\nbuiltin = \"email\"\nbelongs_to = \"anon\"",
        "`belongs_to` only goes with `text`",
        3,
        1,
        1,
    ),
    (
        "[data.x]\ntext = \"CANARY-1\"\nbelongs_to = \"anno\"",
        "unknown identity `anno`",
        3,
        15,
        1,
    ),
    // 7. expectations
    (
        "[[expect]]\npaths = [\"/a\"]",
        "this [[expect]] is not a rule",
        2,
        1,
        1,
    ),
    (
        "[[expect]]\ndata = \"x\"\nallow = [\"anon\"]\n[data.x]\ntext = \"CANARY-1\"",
        "`allow` does not go with `data` in one [[expect]]",
        3,
        1,
        1,
    ),
    (
        "[[expect]]\npaths = [\"/a\"]\nallow = [\"anno\"]",
        "unknown identity or tier `anno`",
        3,
        11,
        1,
    ),
    (
        "[[expect]]\ndata = \"salry\"\nvisible_to = [\"anon\"]\n[data.salary]\njson_keys = [\"salary\"]",
        "unknown data class `salry`",
        2,
        9,
        1,
    ),
    (
        "[[expect]]\nallow = [\"anon\"]",
        "an access rule needs `paths`",
        2,
        1,
        1,
    ),
    (
        "[[expect]]\nvisible_to = [\"anon\"]",
        "`data` is required in [[expect]]",
        1,
        1,
        1,
    ),
    // 8. globs and paths
    (
        "[crawl]\nexclude = [\"/a/[\"]",
        "invalid glob in `exclude`",
        2,
        13,
        1,
    ),
    (
        "[crawl]\nseeds = [\"home\"]",
        "`seeds` must be a path starting with `/`",
        2,
        11,
        1,
    ),
    (
        "[crawl]\nopenapi = \"openapi.json\"",
        "`openapi` must be a path starting with `/`",
        2,
        12,
        1,
    ),
    (
        "[crawl]\ngraphql = \"graphql\"",
        "`graphql` must be a path starting with `/`",
        2,
        12,
        1,
    ),
    (
        // Starts with `/` but names another origin: the POSTs it allows stay on the Site.
        "[crawl]\ngraphql = \"//partner.example/graphql\"",
        "`graphql` must be a path on the Site, not `//host/...` (another origin)",
        2,
        12,
        1,
    ),
    (
        "[session]\nlogin_path = \"login\"",
        "`login_path` must be a path starting with `/`",
        2,
        15,
        1,
    ),
    (
        "[[expect]]\npaths = [\"/admin/{a\"]\nallow = [\"anon\"]",
        "invalid glob in `paths`",
        2,
        11,
        1,
    ),
    // [classify]
    (
        "[classify]\ndisabel = [\"jwt\"]",
        "unknown key `disabel` in [classify]",
        2,
        1,
        1,
    ),
    (
        "[classify]\ndisable = [\"generic_secrets\"]",
        "unknown secret rule `generic_secrets`",
        2,
        13,
        1,
    ),
    (
        "[classify]\ndisable = [\"email\"]",
        "`email` is not on by default",
        2,
        13,
        1,
    ),
    (
        "[classify]\ndisable = \"jwt\"",
        "`disable` must be an array of strings",
        2,
        11,
        1,
    ),
    (
        "[data.jwt]\njson_keys = [\"token\"]",
        "`jwt` is the name of the default-on secret rule `jwt`",
        1,
        7,
        1,
    ),
    // 10. acceptances: no green over an unseen Site, no acceptance without a why or an end
    (
        "[[accept]]\nkind = \"inconclusive\"\nreason = \"flaky\"\nexpires = 2027-01-01",
        "`inconclusive` findings cannot be accepted",
        2,
        9,
        1,
    ),
    (
        "[[accept]]\nkind = \"login-failed\"\nreason = \"sso down\"\nexpires = 2027-01-01",
        "`login-failed` findings cannot be accepted",
        2,
        9,
        1,
    ),
    (
        "[[accept]]\nkind = \"rule-violaton\"\nreason = \"known\"\nexpires = 2027-01-01",
        "unknown finding kind `rule-violaton`",
        2,
        9,
        1,
    ),
    (
        "[[accept]]\nkind = \"rule-violation\"\nreason = \"known\"",
        "`expires` is required in [[accept]]",
        1,
        1,
        1,
    ),
    (
        "[[accept]]\nkind = \"rule-violation\"\nreason = \"known\"\nidentities = [\"anno\"]\nexpires = 2027-01-01",
        "unknown identity `anno`",
        4,
        16,
        1,
    ),
    // 11. who includes whom names declared identities, never itself
    (
        "[[identity]]\nname = \"hr\"\ntier = \"team\"\nincludes = [\"hr\"]",
        "identity `hr` includes itself",
        4,
        14,
        1,
    ),
    (
        "[[identity]]\nname = \"hr\"\ntier = \"team\"\nincludes = [\"anno\"]",
        "unknown identity `anno` in `includes`",
        4,
        14,
        1,
    ),
    // 9. rules that can never match
    (
        "[crawl]\nscope = [\"/app/**\"]\n[[expect]]\npaths = [\"/admin/**\"]\nallow = [\"anon\"]",
        "this [[expect]] path can never match: it is outside [crawl] scope",
        4,
        11,
        1,
    ),
    (
        "[crawl]\nexclude = [\"/admin/**\"]\n[[expect]]\npaths = [\"/admin/**\"]\nallow = [\"anon\"]",
        "this [[expect]] path can never match: it is excluded by [crawl] exclude",
        4,
        11,
        1,
    ),
    // 8. sources
    (
        "[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\"]\nprobs = [\"/f\"]",
        "unknown key `probs` in [[source]]",
        5,
        1,
        1,
    ),
    (
        "[[source]]\nname = \"h r\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\"]",
        "invalid source name `h r`",
        2,
        9,
        1,
    ),
    (
        "[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\"]\n[data.x]\njson_keys = [\"a\"]\nsource = \"hr\"\n\
         [[source]]\nname = \"hr\"\nbase_url = \"http://hr2.example\"\nprobes = [\"/e\"]",
        "source `hr` is declared twice",
        9,
        9,
        1,
    ),
    (
        "[[source]]\nname = \"hr\"\nbase_url = \"ftp://hr.example\"\nprobes = [\"/e\"]",
        "`base_url` must be an http or https URL",
        3,
        13,
        1,
    ),
    (
        "[[source]]\nname = \"hr\"\nbase_url = \"https://x.example/api/\"\nprobes = [\"/e\"]",
        "this [[source]] is the Site itself: its `base_url` has the Site's origin",
        3,
        13,
        1,
    ),
    (
        "[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example?x=1\"\nprobes = [\"/e\"]",
        "a source's `base_url` must not have a query or fragment",
        3,
        13,
        1,
    ),
    (
        "[[source]]\nname = \"hr\"\nbase_url = \"${HR_UNSET}/api\"\nprobes = [\"/e\"]",
        "environment variable `HR_UNSET` is not set",
        3,
        13,
        1,
    ),
    (
        "[[source]]\nname = \"hr\"\nprobes = [\"/e\"]",
        "`base_url` is required in [[source]]",
        1,
        1,
        1,
    ),
    (
        "[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = []",
        "`probes` must not be empty",
        4,
        10,
        1,
    ),
    (
        "[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\", \"/e/{id}\"]",
        "invalid probe `/e/{id}`",
        4,
        18,
        1,
    ),
    (
        "[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"e\"]",
        "invalid probe `e`",
        4,
        12,
        1,
    ),
    (
        "[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"//evil.example/e\"]",
        "invalid probe `//evil.example/e`",
        4,
        12,
        1,
    ),
    (
        "[[identity]]\nname = \"alice\"\ntier = \"owner\"\n\
         [[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\"]\n[source.login.alcie]\nbearer = \"${DB_PASSWORD}\"",
        "unknown identity `alcie` in [source.login]",
        8,
        15,
        1,
    ),
    (
        "[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\"]\n[source.login.anon]\nbearer = \"tok-literal\"",
        "`bearer` of identity `anon` at source `hr` is a literal secret",
        6,
        10,
        1,
    ),
    (
        "[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\"]\n[source.login.anon]\nbearer = \"${DB_PASSWORD}\"\nverify = { path = \"me\" }",
        "`verify.path` must be a path starting with `/`",
        7,
        20,
        1,
    ),
    (
        "[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\"]\n[source.login.anon]\nbearr = \"${DB_PASSWORD}\"",
        "unknown key `bearr` in [source.login.anon]",
        6,
        1,
        2,
    ),
    // 9. data sources
    (
        "[[source]]\nname = \"hr-api\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\"]\n[data.x]\njson_keys = [\"a\"]\nsource = \"hr-ap\"",
        "unknown source `hr-ap`",
        7,
        11,
        1,
    ),
    (
        "[data.x]\njson_keys = [\"a\"]\nsource = \"hr\"",
        "unknown source `hr`",
        3,
        11,
        1,
    ),
    (
        "[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\"]\n[data.x]\nenv = \"DB_PASSWORD\"\nsource = \"hr\"",
        "`source` does not go with `env`",
        7,
        1,
        1,
    ),
    // 10. actions rules
    (
        "[[expect]]\nactions = [\"/a\"]\nallow = [\"anon\"]\npaths = [\"/b\"]",
        "`paths` does not go with `actions` in one [[expect]]",
        4,
        1,
        1,
    ),
    (
        "[[expect]]\nactions = [\"/a\"]\nallow = [\"anon\"]\nmin_rank = 3",
        "`min_rank` does not go with `actions` in one [[expect]]",
        4,
        1,
        1,
    ),
    (
        "[data.x]\njson_keys = [\"a\"]\n[[expect]]\nactions = [\"/a\"]\ndata = \"x\"\nvisible_to = [\"anon\"]",
        "`visible_to` does not go with `actions` in one [[expect]]",
        6,
        1,
        2,
    ),
    (
        "[[expect]]\nactions = [\"/a\"]\nkind = \"forbidden\"\nallow = [\"anon\"]",
        "a forbidden action admits nobody",
        4,
        1,
        1,
    ),
    (
        "[[expect]]\nactions = [\"/a\"]\nallow = [\"anon\"]\nkind = \"wrte\"",
        "unknown action kind `wrte`",
        4,
        9,
        1,
    ),
    (
        "[[expect]]\nkind = \"write\"\nallow = [\"anon\"]",
        "`kind` goes only with `actions`",
        2,
        1,
        1,
    ),
    (
        "[[expect]]\nactions = [\"/a\"]",
        "an actions rule needs `allow`",
        2,
        1,
        1,
    ),
    (
        "[[expect]]\nactions = []\nallow = [\"anon\"]",
        "`actions` must not be empty",
        2,
        11,
        1,
    ),
    (
        "[[expect]]\nactions = [\"team/**\"]\nallow = [\"anon\"]",
        "invalid glob in `actions`",
        2,
        13,
        1,
    ),
    (
        "[[expect]]\nactions = [\"/a\"]\nallow = [\"anno\"]",
        "unknown identity or tier `anno`",
        3,
        11,
        1,
    ),
    // 11. write probes
    (
        "[crawl]\nprobe_writes = true",
        "`probe_writes` sends nothing without `write_scope`",
        2,
        16,
        1,
    ),
    (
        "[crawl]\nprobe_writes = true\nwrite_scope = []",
        "`probe_writes` sends nothing without `write_scope`",
        2,
        16,
        1,
    ),
    (
        "[crawl]\nprobe_writes = true\nwrite_scope = [\"team/**\"]",
        "invalid glob in `write_scope`",
        3,
        17,
        1,
    ),
    (
        "[crawl]\nprobe_writes = \"yes\"\nwrite_scope = [\"/team/**\"]",
        "`probe_writes` must be true or false",
        2,
        16,
        1,
    ),
];

#[test]
fn each_problem_kind_is_reported_at_its_place() {
    for (fragment, message, line, column, count) in FRAGMENTS {
        let source = format!("{BASE}{fragment}\n");
        let d = errors(&source);
        let found = d.items.iter().find(|i| i.message == *message);
        let Some(found) = found else {
            panic!("no `{message}` in:\n{d}");
        };
        assert_eq!(
            (found.location.line, found.location.column),
            (BASE_LINES + line, *column),
            "location of `{message}` in:\n{d}"
        );
        assert_eq!(d.items.len(), *count, "problem count for `{message}`:\n{d}");
    }
}

/// Cases that need a different [site] or identity list: (source, message, line, column).
const FULL: &[(&str, &str, usize, usize)] = &[
    ("[site]\nname = \"x\n", "invalid TOML", 2, 10),
    (
        "[[identity]]\nname = \"a\"\ntier = \"team\"\n",
        "missing [site] table",
        1,
        1,
    ),
    (
        "[site]\nbase_url = \"https://x\"\n[[identity]]\nname = \"a\"\ntier = \"team\"\n",
        "`name` is required in [site]",
        1,
        1,
    ),
    (
        "[site]\nname = \"x\"\n[[identity]]\nname = \"a\"\ntier = \"team\"\n",
        "`base_url` is required in [site]",
        1,
        1,
    ),
    (
        "[site]\nname = \"a/b\"\nbase_url = \"https://x\"\n[[identity]]\nname = \"a\"\ntier = \"team\"\n",
        "`name` must be usable as a file name",
        2,
        9,
    ),
    (
        "[site]\nname = \"a\"\nbase_url = \"ftp://x\"\n[[identity]]\nname = \"a\"\ntier = \"team\"\n",
        "`base_url` must be an http or https URL",
        3,
        13,
    ),
    (
        "[site]\nname = \"a\"\nbase_url = \"not a url\"\n[[identity]]\nname = \"a\"\ntier = \"team\"\n",
        "`base_url` must be an http or https URL",
        3,
        13,
    ),
    (
        "[site]\nname = \"a\"\nbase_url = \"https://x\"\n",
        "no [[identity]] declared",
        1,
        1,
    ),
    (
        "[site]\nname = \"a\"\nbase_url = \"https://x\"\n[identity]\nname = \"a\"\ntier = \"team\"\n",
        "`identity` must be an array of tables",
        4,
        1,
    ),
    (
        "[site]\nname = \"a\"\nbase_url = \"https://x\"\naudience = \"teams\"\n[[identity]]\nname = \"a\"\ntier = \"team\"\n",
        "unknown audience `teams`",
        4,
        13,
    ),
    (
        "[site]\nname = \"a\"\nbase_url = \"https://x\"\nlast_review = \"2026-13-01\"\n[[identity]]\nname = \"a\"\ntier = \"team\"\n",
        "`last_review` must be a date such as 2026-11-01",
        4,
        15,
    ),
    (
        "[site]\nname = \"a\"\nbase_url = \"https://x\"\nexpires = 2026-11-01T10:00:00\n[[identity]]\nname = \"a\"\ntier = \"team\"\n",
        "`expires` must be a date such as 2026-11-01",
        4,
        11,
    ),
    (
        "[site]\nname = \"a\"\nbase_url = \"https://x\"\npublic = [\"healthz\"]\n[[identity]]\nname = \"a\"\ntier = \"team\"\n",
        "invalid glob in `public`",
        4,
        12,
    ),
    (
        "[site]\nname = \"a\"\nbase_url = \"https://x\"\nowner = 3\n[[identity]]\nname = \"a\"\ntier = \"team\"\n",
        "`owner` must be a string",
        4,
        9,
    ),
];

#[test]
fn whole_file_cases() {
    for (source, message, line, column) in FULL {
        let d = errors(source);
        let found = d.items.iter().find(|i| i.message.starts_with(message));
        let Some(found) = found else {
            panic!("no `{message}` in:\n{d}");
        };
        assert_eq!(
            (found.location.line, found.location.column),
            (*line, *column),
            "location of `{message}` in:\n{d}"
        );
    }
}

#[test]
fn secret_rules_are_on_by_default_unless_declared_or_disabled() {
    let s = ok(BASE);
    let secrets: Vec<Builtin> = Builtin::ALL.into_iter().filter(|b| b.is_secret()).collect();
    assert_eq!(
        s.default_secrets(),
        secrets,
        "every secret rule, no personal data"
    );
    let s = ok(&format!(
        "{BASE}[classify]\ndisable = [\"generic_secret\", \"jwt\", \"jwt\"]\n[data.aws]\nbuiltin = \"aws_access_key\"\n[data.jwt]\njson_keys = [\"token\"]\n"
    ));
    assert_eq!(s.classify.disable, [Builtin::GenericSecret, Builtin::Jwt]);
    let defaults = s.default_secrets();
    for gone in [Builtin::GenericSecret, Builtin::Jwt, Builtin::AwsAccessKey] {
        assert!(!defaults.contains(&gone), "{}", gone.as_str());
    }
    assert!(defaults.contains(&Builtin::StripeKey));
    // A class may take a rule's name when it is that rule.
    ok(&format!(
        "{BASE}[data.stripe_key]\nbuiltin = \"stripe_key\"\n"
    ));
    let d = errors(&format!(
        "{BASE}[classify]\ndisable = [\"generic_secrte\", \"phone\"]\n"
    ));
    let helps: Vec<_> = d.items.iter().filter_map(|i| i.help.as_deref()).collect();
    assert_eq!(helps[0], "did you mean `generic_secret`?");
    assert!(helps[1].contains("builtin = \"phone\""), "{}", helps[1]);
}

#[test]
fn suggestions_are_offered_when_close() {
    let d = errors(&format!(
        "{BASE}[crawl]\nmax_requets = 50\nfrobnicate = 1\n"
    ));
    assert_eq!(
        d.items[0].help.as_deref(),
        Some("did you mean `max_requests`?")
    );
    assert!(
        d.items[1]
            .help
            .as_deref()
            .is_some_and(|h| h.starts_with("expected one of: seeds, scope"))
    );
    let d = errors(&format!(
        "{BASE}[[expect]]\npaths = [\"/a\"]\nallow = [\"anno\", \"ownr\"]\n"
    ));
    let helps: Vec<_> = d.items.iter().filter_map(|i| i.help.as_deref()).collect();
    assert_eq!(helps, ["did you mean `anon`?", "did you mean `owner`?"]);
}

#[test]
fn defaults_apply_and_values_are_converted() {
    let s = ok(&format!(
        "{BASE}[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nform = \"/in\"\nfields = {{ user = \"bob\", password = \"${{DB_PASSWORD}}\" }}\n[[expect]]\npaths = [\"/a/**\"]\nallow = [\"team\", \"anon\"]\nmin_rank = 50\n"
    ));
    assert_eq!(s.session.login_path, "/login");
    assert!(s.session.deny_markers.is_empty());
    let d = CrawlConfig::default();
    assert_eq!(
        (s.crawl.seeds.clone(), s.crawl.scope.clone()),
        (d.seeds, d.scope)
    );
    assert_eq!(s.crawl.max_requests, 5000);
    assert_eq!(s.site.audience, Audience::Draft);
    assert_eq!(s.site.base_url.as_str(), "https://x.example/");
    assert_eq!(s.identities[1].rank, Tier::Team.default_rank());
    let Some(Login {
        method: LoginMethod::Form { form, fields },
        verify: None,
        totp: None,
    }) = &s.identities[1].login
    else {
        panic!("form login expected");
    };
    assert_eq!(form, "/in");
    assert_eq!(fields[0].0, "user");
    assert_eq!(fields[0].1.expose(), "bob");
    assert_eq!(fields[1].1.expose(), "db-secret-0005");
    assert_eq!(
        s.expects[0].rule_principals(),
        vec![
            Principal::Tier(Tier::Team),
            Principal::Identity("anon".into())
        ]
    );

    let s = ok(&format!(
        "[site]\nname = \"a\"\nbase_url = \"https://x.example/app/\"\nlast_review = \"2026-11-01\"\nexpires = 2027-03-01\n{}",
        &BASE[BASE.find("[[identity]]").unwrap_or(0)..]
    ));
    assert_eq!(s.site.base_url.path(), "/app");
    assert_eq!(s.site.last_review, Some(jiff::civil::date(2026, 11, 1)));
    assert_eq!(s.site.expires, Some(jiff::civil::date(2027, 3, 1)));
}

#[test]
fn login_methods_parse() {
    let s = ok(&format!(
        "{BASE}[[identity]]\nname = \"b\"\ntier = \"team\"\nlogin = {{ basic = {{ user = \"b\", password = \"${{DB_PASSWORD}}\" }} }}\n\
         [[identity]]\nname = \"c\"\ntier = \"team\"\nlogin = {{ cookie = \"sid=${{DB_PASSWORD}}\", verify = {{ path = \"/me\" }} }}\n\
         [[identity]]\nname = \"h\"\ntier = \"admin\"\nrank = 7\nlogin = {{ headers = {{ \"X-Token\" = \"${{DB_PASSWORD}}\" }} }}\n"
    ));
    let kinds: Vec<_> = s.identities[1..]
        .iter()
        .map(|i| i.login.as_ref().map(|l| l.method.kind()))
        .collect();
    assert_eq!(kinds, [Some("basic"), Some("cookie"), Some("headers")]);
    assert_eq!(s.identities[3].rank, 7);
    assert!(
        s.identities[2]
            .login
            .as_ref()
            .is_some_and(|l| l.verify.is_some())
    );
}

#[test]
fn several_problems_are_sorted_by_position() {
    let d = errors(&format!(
        "{BASE}[[expect]]\npaths = [\"/a\"]\nallow = [\"nobody\"]\n[crawl]\nmax_depth = \"x\"\nconcurrency = 0\n"
    ));
    let lines: Vec<_> = d.items.iter().map(|i| i.location.line).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
    assert_eq!(d.items.len(), 3);
    assert!(d.to_string().ends_with("scenario.toml: 3 problems"));
}

#[test]
fn demo_scenario_parses() {
    // Unit tests run in the crate's folder; the scenario lives at the workspace root.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/demo.toml");
    let s = match load(&path, &env) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(s.identities.len(), 5);
    assert_eq!(s.data.len(), 5);
    // Two rules of the Site, its actions rule, three of its data browser.
    assert_eq!(s.expects.len(), 6);
    assert_eq!(s.site.name, "acme-payroll");
    let names: Vec<_> = s.data.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "salary",
            "email",
            "alice-private",
            "db-password",
            "compensation"
        ]
    );
    assert_eq!(s.data[4].source.as_deref(), Some("hr-api"));
    assert_eq!(s.sources.len(), 1);
    assert_eq!(s.sources[0].logins.len(), 4, "every identity but anonymous");
    assert!(matches!(s.expects[2].rule, ExpectRule::Actions { .. }));
    assert_eq!((s.expects[0].index, s.expects[1].index), (0, 1));
    assert_eq!(s.crawl.graphql.as_deref(), Some("/graphql"));
    assert_eq!(s.expects[0].location.line, 110);
    assert_eq!(s.data[0].location.line, 76);
}

#[test]
fn load_reports_an_unreadable_file() {
    let err = load(Path::new("scenarios/does-not-exist.toml"), &env).unwrap_err();
    assert!(matches!(err, ScenarioError::Read { .. }));
    assert_eq!(
        err.to_string(),
        "cannot read scenario scenarios/does-not-exist.toml"
    );
}

#[test]
fn no_secret_value_is_ever_rendered() {
    let secret_env = |var: &str| match var {
        "SHORTSECRET" => Some("ZQ9".to_string()),
        "EMPTY" => Some(String::new()),
        v if v.starts_with("SET_") => Some(format!("ENV-VALUE-7f3a-{v}")),
        _ => None,
    };
    let sources = [
        // every literal-secret field, a misspelt secret key, and unset variables
        "[site]\nname = \"s\"\nbase_url = \"https://user:LITERAL-7f3a-url@x.example\"\n\
         [[identity]]\nname = \"a\"\ntier = \"team\"\n[identity.login]\nform = \"/login\"\n\
         fields = { username = \"a\", password = \"LITERAL-7f3a-pw\", otp = \"LITERAL-7f3a-otp\", usrname = \"${SET_U}\" }\n\
         [[identity]]\nname = \"b\"\ntier = \"team\"\nlogin = { bearer = \"LITERAL-7f3a-bearer\" }\n\
         [[identity]]\nname = \"c\"\ntier = \"team\"\nlogin = { cookie = \"LITERAL-7f3a-cookie\" }\n\
         [[identity]]\nname = \"d\"\ntier = \"team\"\nlogin = { headers = { \"X-Api\" = \"LITERAL-7f3a-header\" } }\n\
         [[identity]]\nname = \"e\"\ntier = \"team\"\nlogin = { basic = { user = \"e\", password = \"LITERAL-7f3a-basic\", pasword = \"LITERAL-7f3a-typo\" } }\n\
         [[identity]]\nname = \"f\"\ntier = \"team\"\nlogin = { bearer = \"${SET_F}\", verfy = 1, cookie = \"${SET_G}\" }\n\
         [[identity]]\nname = \"g\"\ntier = \"team\"\nlogin = { bearer = \"${SET_X\" }\n\
         [[identity]]\nname = \"h\"\ntier = \"team\"\nlogin = { bearer = \"${EMPTY}\" }\n\
         [data.s]\nenv = \"SHORTSECRET\"\n[data.t]\nenv = \"SET_T\"\ntext = \"x\"\n",
        // a source's literal secrets and credentials in its URL
        "[site]\nname = \"s\"\nbase_url = \"https://x.example\"\n\
         [[identity]]\nname = \"a\"\ntier = \"team\"\n\
         [[source]]\nname = \"hr\"\nbase_url = \"http://u:LITERAL-7f3a-srcurl@hr.example\"\nprobes = [\"/e\"]\n\
         [source.login.a]\nbearer = \"LITERAL-7f3a-srcbearer\"\n\
         [[source]]\nname = \"hr2\"\nbase_url = \"http://hr2.example\"\nprobes = [\"/e\"]\n\
         [source.login.a]\nform = \"/login\"\nfields = { username = \"a\", password = \"LITERAL-7f3a-srcpw\" }\n\
         [source.login.b]\ncookie = \"LITERAL-7f3a-srccookie\"\n",
        // a syntax error on a line holding a secret
        "[site]\nname = \"s\"\n[[identity]]\nlogin = { password = \"LITERAL-7f3a-broken\" \n",
        "[site]\nname = \"s\"\n[[identity]]\nlogin.token = 'LITERAL-7f3a-single\n",
    ];
    for source in sources {
        let err = parse(source, Path::new("s.toml"), &secret_env).unwrap_err();
        let text = format!("{err}\n{err:?}");
        assert!(!text.contains("7f3a"), "a secret leaked:\n{text}");
        assert!(!text.contains("ZQ9"), "a secret leaked:\n{text}");
    }
}

#[test]
fn patterns_parse_with_their_secret_flag() {
    let s = ok(&format!(
        "{BASE}[data.ticket]\npattern = 'TCK-[0-9]{{5}}'\n[data.key]\npattern = 'ik_[a-z0-9]{{12}}'\nsecret = true\n[data.aws]\nbuiltin = \"aws_access_key\"\n"
    ));
    let kinds: Vec<(bool, bool)> = s
        .data
        .iter()
        .map(|d| {
            (
                matches!(d.kind, DataKind::Pattern { .. }),
                d.kind.is_secret(),
            )
        })
        .collect();
    assert_eq!(kinds, vec![(true, false), (true, true), (false, true)]);
    let DataKind::Pattern { regex, .. } = &s.data[0].kind else {
        panic!("not a pattern");
    };
    assert!(regex.is_match("see TCK-12345"));
}

#[test]
fn every_builtin_is_accepted() {
    for b in Builtin::ALL {
        let s = ok(&format!("{BASE}[data.x]\nbuiltin = \"{}\"\n", b.as_str()));
        assert!(matches!(s.data[0].kind, DataKind::Builtin(got) if got == b));
    }
}

#[test]
fn docs_examples_parse() {
    let doc = include_str!("../../../../docs/scenario.md");
    let any_env = |_: &str| Some("doc-example-value".to_string());
    let mut parsed = 0;
    let mut rest = doc;
    while let Some(start) = rest.find("```toml\n") {
        let body = &rest[start + "```toml\n".len()..];
        let Some(end) = body.find("```") else { break };
        let block = &body[..end];
        rest = &body[end + 3..];
        if block.trim_start().starts_with("[site]") {
            if let Err(e) = parse(block, Path::new("docs/scenario.md"), &any_env) {
                panic!("a docs example does not parse:\n{e}\n--- example:\n{block}");
            }
            parsed += 1;
        }
    }
    assert!(parsed >= 2, "expected full examples in docs/scenario.md");
}

fn snapshot_source(name: &str) -> String {
    match name {
        "unknown_key" => format!("{BASE}[crawl]\nmax_depth = 4\nmax_requets = 50\n"),
        "literal_password" => format!(
            "{BASE}[[identity]]\nname = \"carol\"\ntier = \"team\"\n[identity.login]\nform = \"/login\"\nfields = {{ username = \"carol\", password = \"hunter2-do-not-show\" }}\n"
        ),
        "unset_variable" => format!(
            "{BASE}[[identity]]\nname = \"carol\"\ntier = \"team\"\n[identity.login]\nbearer = \"${{CAROL_TOKEN}}\"\n"
        ),
        "unknown_identity" => format!(
            "{BASE}[[identity]]\nname = \"admin-ann\"\ntier = \"admin\"\n[[expect]]\npaths = [\"/admin/**\"]\nallow = [\"admin-an\"]\n"
        ),
        "bad_glob" => format!(
            "{BASE}[crawl]\nscope = [\"/**\"]\nexclude = [\"/logout\", \"/a/[b\"]\n[[expect]]\npaths = [\"admin/**\"]\nallow = [\"anon\"]\n"
        ),
        "bad_pattern" => format!("{BASE}[data.ticket]\npattern = 'TCK-(0-9]{{5}}'\nsecret = true\n"),
        "classify_disable" => format!(
            "{BASE}[classify]\ndisable = [\"generic_secrte\", \"email\"]\n[data.jwt]\njson_keys = [\"token\"]\n"
        ),
        "sources_and_actions" => format!(
            "{BASE}[crawl]\nprobe_writes = true\n\
             [[source]]\nname = \"hr\"\nbase_url = \"https://x.example/hr\"\nprobes = [\"/employees/{{id}}\"]\n\
             [source.login.anno]\nbearer = \"${{HR_TOKEN}}\"\n\
             [data.pay]\nenv = \"DB_PASSWORD\"\nsource = \"hr\"\n\
             [[expect]]\nactions = [\"/team/compensation\"]\nkind = \"forbidden\"\nallow = [\"anon\"]\n\
             [[expect]]\nactions = [\"/team/**\"]\npaths = [\"/team\"]\nallow = [\"anon\"]\n"
        ),
        "syntax_error" => "[site]\nname = \"s\nbase_url = https://x\n[[identity]]\nlogin = { password = \"hunter2-do-not-show\" \n".to_string(),
        _ => "[site]\nname = \"my site\"\nbase_url = \"https://payroll.example\"\naudience = \"tem\"\n\n\
              [crawl]\nmax_depth = \"8\"\nconcurrency = 0\nscope = [\"/app/**\"]\n\n\
              [[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\nbearer = \"tok-literal\"\n\n\
              [data.salary]\njson_keys = [\"salary\"]\n\n\
              [[expect]]\npaths = [\"/admin/**\"]\nallow = [\"bobb\"]\n\n\
              [[expect]]\ndata = \"salry\"\nvisible_to = [\"bob\"]\n"
            .to_string(),
    }
}

#[test]
fn rendered_snapshots() {
    for name in [
        "unknown_key",
        "literal_password",
        "unset_variable",
        "unknown_identity",
        "bad_glob",
        "several_problems",
        "syntax_error",
        "bad_pattern",
        "classify_disable",
        "sources_and_actions",
    ] {
        let text = rendered(&snapshot_source(name));
        insta::assert_snapshot!(name, text);
    }
}

impl Expectation {
    fn rule_principals(&self) -> Vec<Principal> {
        match &self.rule {
            ExpectRule::Access { allow, .. } => allow.clone(),
            ExpectRule::Data { visible_to, .. } => visible_to.clone(),
            ExpectRule::Actions { allow, .. } => allow.clone(),
        }
    }
}

#[test]
fn query_param_lists_extend_the_builtin_ones() {
    let s = ok(&format!(
        "{BASE}[crawl]\npresentation_params = [\"view\", \"q\"]\ndata_params = [\"format\"]\n"
    ));
    let params = &s.crawl.params;
    assert!(params.is_presentation("view"));
    assert!(params.is_presentation("_sort"));
    // The scenario's word wins over the built-in lists, both ways.
    assert!(params.is_presentation("q"));
    assert!(!params.data.contains("q"));
    assert!(!params.is_presentation("format"));
    assert!(params.data.contains("format"));
    assert_eq!(s.crawl.max_per_template, 10);
}

#[test]
fn a_json_login_takes_its_path_fields_token_and_header() {
    let s = ok(&format!(
        "{BASE}[[identity]]\nname = \"alice\"\ntier = \"owner\"\n[identity.login]\n\
         json = \"/api/auth/login\"\nfields = {{ username = \"alice\", password = \"${{DEMO_ALICE_PASSWORD}}\" }}\n\
         token = \"/data/token\"\ntoken_header = \"X-Auth\"\nencoding = \"form\"\n"
    ));
    let login = s.identities[1].login.as_ref().unwrap();
    let LoginMethod::Json {
        path,
        fields,
        form_encoded,
        token,
        token_header,
        refresh,
    } = &login.method
    else {
        panic!("{:?}", login.method.kind());
    };
    assert_eq!(path, "/api/auth/login");
    assert_eq!(fields.len(), 2);
    assert!(*form_encoded);
    assert_eq!(token.as_deref(), Some("/data/token"));
    assert_eq!(token_header.as_deref(), Some("X-Auth"));
    assert_eq!(*refresh, None);
    assert_eq!(login.method.kind(), "json");
}

#[test]
fn a_json_login_may_renew_with_a_refresh_token_and_says_what_it_lacks() {
    let login = |extra: &str| {
        format!(
            "{BASE}[[identity]]\nname = \"alice\"\ntier = \"owner\"\n[identity.login]\n\
             json = \"/api/auth/login\"\nfields = {{ username = \"alice\", password = \"${{DEMO_ALICE_PASSWORD}}\" }}\n{extra}"
        )
    };
    let s = ok(&login(
        "token = \"/access_token\"\nrefresh = \"/api/auth/refresh\"\nrefresh_token = \"/refresh_token\"\n",
    ));
    let LoginMethod::Json { refresh, .. } = &s.identities[1].login.as_ref().unwrap().method else {
        panic!("a json login");
    };
    assert_eq!(
        refresh.as_ref(),
        Some(&Refresh {
            path: "/api/auth/refresh".to_string(),
            token: "/refresh_token".to_string()
        })
    );
    for (extra, says) in [
        (
            "token = \"/access_token\"\nrefresh = \"/api/auth/refresh\"\n",
            "`refresh` needs `refresh_token`",
        ),
        (
            "token = \"/access_token\"\nrefresh_token = \"/refresh_token\"\n",
            "`refresh_token` needs `refresh`",
        ),
        (
            "refresh = \"/api/auth/refresh\"\nrefresh_token = \"/refresh_token\"\n",
            "`refresh` needs `token`",
        ),
        (
            "token = \"/access_token\"\nrefresh = \"/api/auth/refresh\"\nrefresh_token = \"refresh_token\"\n",
            "`refresh_token` is a JSON pointer",
        ),
    ] {
        let text = errors(&login(extra)).to_string();
        assert!(text.contains(says), "{extra}: {text}");
    }
}

#[test]
fn a_json_login_refuses_what_it_cannot_use() {
    for (extra, says) in [
        ("token = \"access_token\"\n", "JSON pointer"),
        (
            "token = \"/t\"\ntoken_header = \"bad header\"\n",
            "not a valid header name",
        ),
        ("token_header = \"X-Auth\"\n", "needs `token`"),
        ("encoding = \"xml\"\n", "unknown encoding"),
    ] {
        let text = rendered(&format!(
            "{BASE}[[identity]]\nname = \"alice\"\ntier = \"owner\"\n[identity.login]\n\
             json = \"/api/auth/login\"\nfields = {{ password = \"${{DEMO_ALICE_PASSWORD}}\" }}\n{extra}"
        ));
        assert!(text.contains(says), "{extra}: {text}");
    }
    let text = rendered(&format!(
        "{BASE}[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\n\
         bearer = \"${{T}}\"\ntoken = \"/t\"\n"
    ));
    assert!(text.contains("`token` only goes with `json`"), "{text}");
    let text = rendered(&format!(
        "{BASE}[[identity]]\nname = \"bob\"\ntier = \"team\"\n[identity.login]\njson = \"/api/login\"\n"
    ));
    assert!(text.contains("`json` needs a `fields` table"), "{text}");
}

/// A scenario with a source, for the source, data-source and lint cases: alice and bob log in
/// to it, carol does not.
const HR: &str = "[[identity]]\nname = \"alice\"\ntier = \"owner\"\n\
[[identity]]\nname = \"bob\"\ntier = \"team\"\n\
[[identity]]\nname = \"carol\"\ntier = \"team\"\n\
[[source]]\nname = \"hr-api\"\nbase_url = \"${HR_URL}/\"\nprobes = [\"/employees\", \"/employees?active=1\"]\n\
[source.login.alice]\nbearer = \"${HR_ALICE_TOKEN}\"\n\
[source.login.bob]\nform = \"/login\"\nfields = { username = \"bob\", password = \"${DEMO_BOB_PASSWORD}\" }\nverify = { path = \"/me\", contains = \"bob\" }\n";

#[test]
fn a_source_takes_its_url_probes_and_logins() {
    let s = ok(&format!(
        "{BASE}{HR}[data.compensation]\njson_keys = [\"compensation\"]\nsource = \"hr-api\"\n[data.email]\nbuiltin = \"email\"\n"
    ));
    assert_eq!(s.sources.len(), 1);
    let hr = &s.sources[0];
    assert_eq!(hr.name, "hr-api");
    assert_eq!(hr.base_url.as_str(), "http://127.0.0.1:8081/");
    assert_eq!(hr.probes, ["/employees", "/employees?active=1"]);
    let names: Vec<_> = hr.logins.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);
    let Some(LoginMethod::Bearer(token)) = hr.login_for("alice").map(|l| &l.method) else {
        panic!("alice logs in to the source with a bearer token");
    };
    assert_eq!(token.expose(), "hr-alice-token-0006");
    let bob = hr.login_for("bob").unwrap();
    assert_eq!(bob.method.kind(), "form");
    assert_eq!(bob.verify.as_ref().map(|v| v.path.as_str()), Some("/me"));
    assert!(
        hr.login_for("carol").is_none(),
        "carol goes without credentials"
    );
    // The first key of the entry: `name`, on the line after [[source]].
    assert_eq!(hr.location.line, BASE_LINES + 11);
    assert_eq!(s.data[0].source.as_deref(), Some("hr-api"));
    assert_eq!(s.data[1].source, None);

    // The same scenario without a [[source]] has none, and a class naming one is refused.
    let s = ok(&format!(
        "{BASE}[data.compensation]\njson_keys = [\"compensation\"]\n"
    ));
    assert!(s.sources.is_empty());
    assert_eq!(s.data[0].source, None);
}

#[test]
fn a_source_on_another_port_of_the_sites_host_is_not_the_site() {
    let site = "[site]\nname = \"s\"\nbase_url = \"http://127.0.0.1:8080/app\"\n\
                [[identity]]\nname = \"anon\"\ntier = \"external\"\n";
    let source = |url: &str| {
        format!(
            "{site}[[source]]\nname = \"hr\"\nbase_url = \"{url}\"\nprobes = [\"/e\"]\n[data.x]\njson_keys = [\"a\"]\nsource = \"hr\"\n"
        )
    };
    ok(&source("http://127.0.0.1:8081"));
    ok(&source("https://127.0.0.1:8080"));
    let d = errors(&source("http://127.0.0.1:8080/hr"));
    assert!(d.items[0].message.contains("is the Site itself"), "{d}");
}

#[test]
fn source_and_action_names_are_suggested() {
    let d = errors(&format!(
        "{BASE}{HR}[data.x]\njson_keys = [\"a\"]\nsource = \"hr-apl\"\n[source.login.bbo]\n"
    ));
    let helps: Vec<_> = d.items.iter().filter_map(|i| i.help.as_deref()).collect();
    assert!(helps.contains(&"did you mean `hr-api`?"), "{d}");
    let d = errors(&format!(
        "{BASE}[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\"]\nprobs = [\"/f\"]\n"
    ));
    assert_eq!(d.items[0].help.as_deref(), Some("did you mean `probes`?"));
    let d = errors(&format!(
        "{BASE}[[identity]]\nname = \"alice\"\ntier = \"owner\"\n[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\"]\n[source.login.alcie]\nbearer = \"${{DB_PASSWORD}}\"\n"
    ));
    assert_eq!(d.items[0].help.as_deref(), Some("did you mean `alice`?"));
    let d = errors(&format!(
        "{BASE}[[expect]]\nactions = [\"/a\"]\nallow = [\"anon\"]\nkind = \"wrte\"\n"
    ));
    assert_eq!(
        d.items[0].help.as_deref(),
        Some("did you mean `write`? (`kind` is one of: write, confirm, forbidden)")
    );
    let d = errors(&format!(
        "{BASE}[[expect]]\nactions = [\"/a\"]\nallow = [\"anon\"]\nkind = \"delete\"\n"
    ));
    assert_eq!(
        d.items[0].help.as_deref(),
        Some("`kind` is one of: write, confirm, forbidden")
    );
    let d = errors(&format!(
        "{BASE}[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\"]\n[data.x]\nenv = \"DB_PASSWORD\"\nsource = \"hr\"\n"
    ));
    assert!(
        d.items[0]
            .help
            .as_deref()
            .is_some_and(|h| h.starts_with("a secret has no source records")),
        "{d}"
    );
}

#[test]
fn a_source_login_is_refused_as_an_identity_login_is() {
    let text = rendered(&format!(
        "{BASE}[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\"]\n[source.login.anon]\nbearer = \"tok-literal\"\n"
    ));
    assert!(
        text.contains("read it from the environment: bearer = \"${HR_ANON_BEARER}\""),
        "{text}"
    );
    assert!(!text.contains("tok-literal"), "{text}");
    let text = rendered(&format!(
        "{BASE}[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\"]\n[source.login.anon]\nbearer = \"${{DB_PASSWORD}}\"\ncookie = \"${{DB_PASSWORD}}\"\n"
    ));
    assert!(
        text.contains("`cookie` conflicts with `bearer` in [source.login.anon]"),
        "{text}"
    );
    let text = rendered(&format!(
        "{BASE}[[source]]\nname = \"hr\"\nbase_url = \"http://hr.example\"\nprobes = [\"/e\"]\n[source.login.anon]\nverify = {{ path = \"/me\" }}\n"
    ));
    assert!(
        text.contains("[source.login.anon] has no login method"),
        "{text}"
    );
}

#[test]
fn actions_rules_take_globs_allow_and_kind() {
    let s = ok(&format!(
        "{BASE}[[identity]]\nname = \"alice\"\ntier = \"owner\"\n\
         [crawl]\nscope = [\"/app/**\"]\nexclude = [\"/app/admin/**\"]\n\
         [[expect]]\nactions = [\"/team/compensation\", \"/app/admin/**\"]\nallow = [\"alice\", \"team\"]\n\
         [[expect]]\nactions = [\"/app/transfer\"]\nallow = [\"alice\"]\nkind = \"confirm\"\n\
         [[expect]]\nactions = [\"/app/danger/**\"]\nkind = \"forbidden\"\n\
         [[expect]]\nactions = [\"/app/nuke\"]\nkind = \"forbidden\"\nallow = []\n"
    ));
    let rules: Vec<_> = s
        .expects
        .iter()
        .map(|e| match &e.rule {
            ExpectRule::Actions { allow, kind } => (e.paths.clone(), allow.clone(), *kind),
            other => panic!("an actions rule expected, got {other:?}"),
        })
        .collect();
    assert_eq!(
        rules[0],
        (
            vec![
                "/team/compensation".to_string(),
                "/app/admin/**".to_string()
            ],
            vec![
                Principal::Identity("alice".into()),
                Principal::Tier(Tier::Team)
            ],
            ActionKind::Write
        ),
        "`kind` defaults to write; action globs need not be crawlable (outside scope, excluded)"
    );
    assert_eq!(rules[1].2, ActionKind::Confirm);
    assert_eq!((rules[2].1.len(), rules[2].2), (0, ActionKind::Forbidden));
    assert_eq!((rules[3].1.len(), rules[3].2), (0, ActionKind::Forbidden));
    let globs = &s.expects[0].path_globs;
    assert!(globs.is_match("/team/compensation"));
    assert!(globs.is_match("/app/admin/users/7/delete"));
    assert!(
        !globs.is_match("/team/compensation/7"),
        "the glob syntax of `paths`"
    );
    // The entry's first key, `actions`.
    assert_eq!(s.expects[1].location.line, BASE_LINES + 11);

    // The same globs as `paths` of an access rule are refused: a page rule must be crawlable.
    let d = errors(&format!(
        "{BASE}[crawl]\nscope = [\"/app/**\"]\nexclude = [\"/app/admin/**\"]\n\
         [[expect]]\npaths = [\"/team/compensation\", \"/app/admin/**\"]\nallow = [\"anon\"]\n"
    ));
    assert_eq!(d.items.len(), 2, "{d}");
}

#[test]
fn write_probes_are_off_unless_asked_for_with_a_scope() {
    let s = ok(BASE);
    assert!(!s.crawl.probe_writes);
    assert!(s.crawl.write_scope.is_empty());
    let s = ok(&format!(
        "{BASE}[crawl]\nprobe_writes = true\nwrite_scope = [\"/team/**\", \"/api/*/notes\"]\n"
    ));
    assert!(s.crawl.probe_writes);
    assert_eq!(s.crawl.write_scope.patterns(), ["/team/**", "/api/*/notes"]);
    assert!(s.crawl.write_scope.is_match("/team/compensation"));
    // A scope alone loads (it sends nothing; a warning says so).
    let s = ok(&format!("{BASE}[crawl]\nwrite_scope = [\"/team/**\"]\n"));
    assert!(!s.crawl.probe_writes);
    assert!(!s.crawl.write_scope.is_empty());
    let s = ok(&format!("{BASE}[crawl]\nprobe_writes = false\n"));
    assert!(!s.crawl.probe_writes);
}

fn lints(source: &str) -> Vec<Lint> {
    match parse_with_lints(source, Path::new("scenario.toml"), &env) {
        Ok((_, lints)) => lints,
        Err(e) => panic!("expected a valid scenario, got:\n{e}\n--- source:\n{source}"),
    }
}

fn lint_messages(source: &str) -> Vec<String> {
    lints(source).into_iter().map(|l| l.message).collect()
}

#[test]
fn a_class_with_both_a_source_and_a_data_rule_is_warned_about() {
    let class = "[data.compensation]\njson_keys = [\"compensation\"]\nsource = \"hr-api\"\n\
                 [data.salary]\njson_keys = [\"salary\"]\n";
    let fires = lints(&format!(
        "{BASE}{HR}{class}[[expect]]\ndata = \"compensation\"\nvisible_to = [\"alice\"]\n"
    ));
    assert_eq!(fires.len(), 1, "{fires:?}");
    // The entry's first key, `data`, under [[expect]].
    let expect_line = BASE_LINES + HR.lines().count() + 7;
    assert_eq!(
        fires[0].message,
        format!(
            "both the [[expect]] on line {expect_line} and source `hr-api` speak for class `compensation`: the declared rule decides, the source's answers are not used for it"
        )
    );
    // At the class's `source` key.
    let source_line = BASE_LINES + HR.lines().count() + 3;
    assert_eq!(
        (fires[0].location.line, fires[0].location.column),
        (source_line, 1)
    );
    assert_eq!(
        fires[0].to_string(),
        format!(
            "scenario.toml:{source_line}:1: warning: {}",
            fires[0].message
        )
    );
    // A data rule for another class, beside the same source: silent.
    let silent = lint_messages(&format!(
        "{BASE}{HR}{class}[[expect]]\ndata = \"salary\"\nvisible_to = [\"alice\"]\n"
    ));
    assert!(silent.is_empty(), "{silent:?}");
}

#[test]
fn a_source_no_class_names_is_warned_about() {
    let fires = lints(&format!(
        "{BASE}{HR}[data.compensation]\njson_keys = [\"compensation\"]\n"
    ));
    assert_eq!(fires.len(), 1, "{fires:?}");
    assert_eq!(
        fires[0].message,
        "no [data] class names source `hr-api`: its probes would derive nothing (add source = \"hr-api\" to the classes it holds)"
    );
    assert_eq!(fires[0].location.line, BASE_LINES + 11);
    let silent = lint_messages(&format!(
        "{BASE}{HR}[data.compensation]\njson_keys = [\"compensation\"]\nsource = \"hr-api\"\n"
    ));
    assert!(silent.is_empty(), "{silent:?}");
}

#[test]
fn write_probe_settings_are_warned_about() {
    let fires = lints(&format!(
        "{BASE}[crawl]\nmax_depth = 3\nwrite_scope = [\"/team/**\"]\n"
    ));
    assert_eq!(
        fires,
        [Lint {
            location: Location {
                file: "scenario.toml".into(),
                line: BASE_LINES + 3,
                column: 1
            },
            message: "`write_scope` is set but `probe_writes` is not true: no action is sent"
                .to_string()
        }]
    );
    let fires = lint_messages(&format!(
        "{BASE}[crawl]\nprobe_writes = false\nwrite_scope = [\"/team/**\"]\n"
    ));
    assert_eq!(fires.len(), 1, "{fires:?}");
    // Sending is on: the reminder, and no word about a scope without probes.
    let fires = lints(&format!(
        "{BASE}[crawl]\nprobe_writes = true\nwrite_scope = [\"/team/**\", \"/notes/*\"]\n"
    ));
    assert_eq!(fires.len(), 1, "{fires:?}");
    assert_eq!(
        fires[0].message,
        "`probe_writes = true`: every action matching /team/**, /notes/* will be sent, with an empty body, as every identity"
    );
    assert_eq!(fires[0].location.line, BASE_LINES + 2);
    // The same [crawl] without either key: silent.
    let silent = lint_messages(&format!(
        "{BASE}[crawl]\nmax_depth = 3\nprobe_writes = false\n"
    ));
    assert!(silent.is_empty(), "{silent:?}");
}

#[test]
fn lints_are_sorted_by_position() {
    let all = lints(&format!(
        "{BASE}[crawl]\nwrite_scope = [\"/team/**\"]\n{HR}[data.compensation]\njson_keys = [\"compensation\"]\n"
    ));
    let lines: Vec<_> = all.iter().map(|l| l.location.line).collect();
    assert_eq!(lines, [BASE_LINES + 2, BASE_LINES + 2 + 11], "{all:?}");
}

#[test]
fn an_oauth2_login_names_its_endpoint_and_grant_and_the_password_grant_is_warned_about() {
    let login = |oauth: &str| {
        format!(
            "{BASE}[[identity]]\nname = \"alice\"\ntier = \"owner\"\n[identity.login]\noauth2 = {oauth}\n"
        )
    };
    let s = ok(&login(
        "{ issuer = \"https://idp.example\", grant = \"client_credentials\", client_id = \"bot\", client_secret = \"${HR_ALICE_TOKEN}\", scope = \"read\" }",
    ));
    let LoginMethod::OAuth2(oauth) = &s.identities[1].login.as_ref().unwrap().method else {
        panic!("an oauth2 login");
    };
    assert_eq!(
        oauth.endpoint,
        TokenEndpoint::Issuer("https://idp.example".into())
    );
    assert!(matches!(oauth.grant, Grant::ClientCredentials));
    assert_eq!(oauth.client_id, "bot");
    assert_eq!(oauth.scope.as_deref(), Some("read"));
    assert_eq!(
        s.identities[1].login.as_ref().unwrap().method.kind(),
        "oauth2"
    );

    let password = login(
        "{ token_url = \"/oauth/token\", grant = \"password\", client_id = \"app\", username = \"alice\", password = \"${DEMO_ALICE_PASSWORD}\" }",
    );
    let (parsed, lints) =
        parse_with_lints(&password, Path::new("scenario.toml"), &env).expect("it loads");
    assert!(matches!(
        &parsed.identities[1].login.as_ref().unwrap().method,
        LoginMethod::OAuth2(OAuth2 {
            grant: Grant::Password { .. },
            client_secret: None,
            ..
        })
    ));
    assert_eq!(lints.len(), 1, "{lints:?}");
    assert!(lints[0].message.contains("resource-owner password grant"));
    let (_, lints) = parse_with_lints(
        &login("{ token_url = \"/t\", grant = \"client_credentials\", client_id = \"bot\" }"),
        Path::new("scenario.toml"),
        &env,
    )
    .expect("it loads");
    assert!(lints.is_empty(), "client credentials are not warned about");

    for (oauth, says) in [
        (
            "{ grant = \"client_credentials\", client_id = \"b\" }",
            "needs `token_url` or `issuer`",
        ),
        (
            "{ token_url = \"/t\", issuer = \"https://i\", grant = \"client_credentials\", client_id = \"b\" }",
            "`issuer` conflicts with `token_url`",
        ),
        (
            "{ token_url = \"/t\", client_id = \"b\" }",
            "`grant` is required",
        ),
        (
            "{ token_url = \"/t\", grant = \"implicit\", client_id = \"b\" }",
            "unknown grant `implicit`",
        ),
        (
            "{ token_url = \"/t\", grant = \"password\", client_id = \"b\", password = \"${DEMO_ALICE_PASSWORD}\" }",
            "`username` is required",
        ),
        (
            "{ token_url = \"/t\", grant = \"client_credentials\", client_id = \"b\", username = \"x\" }",
            "`username` only goes with grant = \"password\"",
        ),
        (
            "{ token_url = \"/t\", grant = \"client_credentials\" }",
            "`client_id` is required",
        ),
        (
            "{ token_url = \"/t\", grant = \"client_credentials\", client_id = \"b\", client_secret = \"literal\" }",
            "is a literal secret",
        ),
    ] {
        let text = errors(&login(oauth)).to_string();
        assert!(text.contains(says), "{oauth}: {text}");
    }
}

#[test]
fn a_totp_second_factor_goes_with_form_and_json_logins_and_its_seed_is_a_secret() {
    let login = |method: &str, totp: &str| {
        format!(
            "{BASE}[[identity]]\nname = \"alice\"\ntier = \"owner\"\n[identity.login]\n{method}\ntotp = {totp}\n"
        )
    };
    let form = "form = \"/login\"\nfields = { username = \"alice\", password = \"${DEMO_ALICE_PASSWORD}\" }";
    let s = ok(&login(
        form,
        "{ field = \"otp\", seed = \"${HR_ALICE_TOKEN}\" }",
    ));
    let totp = s.identities[1]
        .login
        .as_ref()
        .unwrap()
        .totp
        .as_ref()
        .unwrap();
    assert_eq!(totp.field, "otp");
    assert_eq!(format!("{:?}", totp.seed), "***");
    for (method, totp, says) in [
        (
            form,
            "{ field = \"otp\", seed = \"JBSWY3DPEHPK3PXP\" }",
            "is a literal secret",
        ),
        (
            form,
            "{ seed = \"${HR_ALICE_TOKEN}\" }",
            "`field` is required",
        ),
        (form, "{ field = \"otp\" }", "`seed` is required"),
        (
            form,
            "{ field = \"otp\", seed = \"${HR_ALICE_TOKEN}\", digits = 8 }",
            "digits",
        ),
        (
            "bearer = \"${HR_ALICE_TOKEN}\"",
            "{ field = \"otp\", seed = \"${HR_ALICE_TOKEN}\" }",
            "`totp` only goes with `form` or `json`",
        ),
    ] {
        let text = errors(&login(method, totp)).to_string();
        assert!(text.contains(says), "{totp}: {text}");
        assert!(
            !text.contains("JBSWY3DPEHPK3PXP"),
            "a literal seed is masked: {text}"
        );
    }
}
