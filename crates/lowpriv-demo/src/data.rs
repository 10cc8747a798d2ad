//! The Site's fixed data: the public demo credentials (`USERS`), the accounts with their
//! roles, and the employee records (plus optional generated ones for load tests); the HR
//! API's tokens, records and permission rule.
//!
//! The bottom layer with `config`: constants and plain records, no imports from the crate.

use serde_json::{Map, Value, json};

/// A demo account.
pub struct DemoUser {
    pub name: &'static str,
    pub password: &'static str,
    pub token: &'static str,
    /// The scenario variable that carries this user's password.
    pub env_var: &'static str,
}

/// The demo accounts, with fixed, documented credentials (they only ever
/// guard a loopback demo):
///
/// | user  | role                      | password             | API token              |
/// |-------|---------------------------|----------------------|------------------------|
/// | alice | owner                     | `alice-demo-pw-7Hq2` | `tok-alice-4f1d9a7c2b` |
/// | bob   | hr                        | `bob-demo-pw-9Lm4`   | `tok-bob-8e2c5b1a9d`   |
/// | carol | employee                  | `carol-demo-pw-3Xv8` | `tok-carol-3a7f0e6d1c` |
/// | dave  | staff, not on the team    | `dave-demo-pw-5Tn1`  | `tok-dave-6b9d2c8e4f`  |
pub const USERS: [DemoUser; 4] = [
    DemoUser {
        name: "alice",
        password: "alice-demo-pw-7Hq2",
        token: "tok-alice-4f1d9a7c2b",
        env_var: "DEMO_ALICE_PASSWORD",
    },
    DemoUser {
        name: "bob",
        password: "bob-demo-pw-9Lm4",
        token: "tok-bob-8e2c5b1a9d",
        env_var: "DEMO_BOB_PASSWORD",
    },
    DemoUser {
        name: "carol",
        password: "carol-demo-pw-3Xv8",
        token: "tok-carol-3a7f0e6d1c",
        env_var: "DEMO_CAROL_PASSWORD",
    },
    DemoUser {
        name: "dave",
        password: "dave-demo-pw-5Tn1",
        token: "tok-dave-6b9d2c8e4f",
        env_var: "DEMO_DAVE_PASSWORD",
    },
];

/// A person's bearer token for the HR API (`hr.rs`, a second loopback service beside the
/// Site): fixed and documented like the passwords, and like them given to a scenario through
/// a variable (`crate::demo_env`).
///
/// | person | HR API token          | variable             |
/// |--------|-----------------------|----------------------|
/// | alice  | `hr-alice-71c4e9b2d0` | `DEMO_HR_ALICE_TOKEN` |
/// | bob    | `hr-bob-2f8a6d3e15`   | `DEMO_HR_BOB_TOKEN`   |
/// | carol  | `hr-carol-9b0e4c7a58` | `DEMO_HR_CAROL_TOKEN` |
/// | dave   | `hr-dave-4d6f1a8c93`  | `DEMO_HR_DAVE_TOKEN`  |
pub(crate) struct HrToken {
    pub(crate) name: &'static str,
    pub(crate) token: &'static str,
    pub(crate) env_var: &'static str,
}

pub(crate) const HR_TOKENS: [HrToken; 4] = [
    HrToken {
        name: "alice",
        token: "hr-alice-71c4e9b2d0",
        env_var: "DEMO_HR_ALICE_TOKEN",
    },
    HrToken {
        name: "bob",
        token: "hr-bob-2f8a6d3e15",
        env_var: "DEMO_HR_BOB_TOKEN",
    },
    HrToken {
        name: "carol",
        token: "hr-carol-9b0e4c7a58",
        env_var: "DEMO_HR_CAROL_TOKEN",
    },
    HrToken {
        name: "dave",
        token: "hr-dave-4d6f1a8c93",
        env_var: "DEMO_HR_DAVE_TOKEN",
    },
];

/// The Site's own token for the HR API: it reads every record with compensation. Not in any
/// variable, so no identity of a scenario can hold it.
pub(crate) const HR_SERVICE_TOKEN: &str = "hr-svc-acme-site-5e03b7c2a9f1";

/// Who an HR API bearer token belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HrCaller {
    /// The Site, with `HR_SERVICE_TOKEN`.
    Service,
    /// A person, by name.
    Person(&'static str),
}

impl HrCaller {
    pub(crate) fn from_token(token: &str) -> Option<HrCaller> {
        if token == HR_SERVICE_TOKEN {
            return Some(HrCaller::Service);
        }
        HR_TOKENS
            .iter()
            .find(|hr| hr.token == token)
            .map(|hr| HrCaller::Person(hr.name))
    }

    /// The HR API's field permission, for the record of the person named `owner`: the
    /// service, HR and the owner read every record's compensation; anyone else only their own.
    pub(crate) fn sees_compensation(self, owner: &str) -> bool {
        match self {
            HrCaller::Service => true,
            HrCaller::Person(name) => hr_reads_all(name) || owner == name,
        }
    }
}

/// Whether the person `name` reads every record's compensation in the HR API: HR and the
/// owner (by their role on the Site, the same people).
pub(crate) fn hr_reads_all(name: &str) -> bool {
    ACCOUNTS
        .iter()
        .any(|account| account.name() == name && matches!(account.role, Role::Owner | Role::Hr))
}

/// One HR API record. `compensation` is the HR system's own figure (base, bonus and
/// benefits together), deliberately unlike any `salary` or `bonus` of the Site's records, so
/// a value found on a page names the system it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HrRecord {
    pub(crate) id: u32,
    pub(crate) name: &'static str,
    pub(crate) team: &'static str,
    pub(crate) email: String,
    pub(crate) compensation: u64,
}

/// The team the Site's `/team` page lists (everyone on the Site's payroll, not dave).
pub(crate) const PAYROLL_TEAM: &str = "payroll";

impl HrRecord {
    pub(crate) fn to_json(&self, with_compensation: bool) -> Value {
        let mut record = Map::new();
        record.insert("id".into(), json!(self.id));
        record.insert("name".into(), json!(self.name));
        record.insert("team".into(), json!(self.team));
        record.insert("email".into(), json!(self.email));
        if with_compensation {
            record.insert("compensation".into(), json!(self.compensation));
        }
        Value::Object(record)
    }
}

/// The HR API's records: the Site's fixed employees (same ids) and dave (id 4, an employee of
/// the company but not on the Site's payroll team). Odd figures, never a multiple of 50, so
/// none equals a salary, a bonus or a generated salary.
pub(crate) fn hr_records() -> Vec<HrRecord> {
    const RECORDS: [(u32, &str, &str, u64); 6] = [
        (1, "alice", PAYROLL_TEAM, 287_413),
        (2, "bob", PAYROLL_TEAM, 131_729),
        (3, "carol", PAYROLL_TEAM, 104_387),
        (4, "dave", "operations", 97_651),
        (5, "erin", PAYROLL_TEAM, 108_943),
        (6, "frank", PAYROLL_TEAM, 93_207),
    ];
    RECORDS
        .iter()
        .map(|&(id, name, team, compensation)| HrRecord {
            id,
            name,
            team,
            email: format!("{name}@acme.example"),
            compensation,
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Owner,
    Hr,
    Employee,
    /// A company-wide account outside the payroll team.
    Staff,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Hr => "hr",
            Role::Employee => "employee",
            Role::Staff => "staff",
        }
    }
}

/// A login account: the public credentials plus what the Site knows about it.
pub(crate) struct Account {
    pub(crate) user: &'static DemoUser,
    /// The id used by `/admin/users`.
    pub(crate) user_id: u32,
    pub(crate) role: Role,
    pub(crate) team_member: bool,
    pub(crate) employee_id: Option<u32>,
}

impl Account {
    pub(crate) fn name(&self) -> &'static str {
        self.user.name
    }

    pub(crate) fn email(&self) -> String {
        format!("{}@acme.example", self.user.name)
    }
}

pub(crate) static ACCOUNTS: [Account; 4] = [
    Account {
        user: &USERS[0],
        user_id: 1,
        role: Role::Owner,
        team_member: true,
        employee_id: Some(1),
    },
    Account {
        user: &USERS[1],
        user_id: 2,
        role: Role::Hr,
        team_member: true,
        employee_id: Some(2),
    },
    Account {
        user: &USERS[2],
        user_id: 3,
        role: Role::Employee,
        team_member: true,
        employee_id: Some(3),
    },
    Account {
        user: &USERS[3],
        user_id: 4,
        role: Role::Staff,
        team_member: false,
        employee_id: None,
    },
];

#[derive(Clone, Debug)]
pub(crate) struct Employee {
    pub(crate) id: u32,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) title: String,
    pub(crate) salary: u64,
    pub(crate) bonus: u64,
    pub(crate) private_notes: String,
}

/// Which fields of a record a viewer may see.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Visible {
    pub(crate) pay: bool,
    pub(crate) private_notes: bool,
}

impl Employee {
    pub(crate) fn to_json(&self, visible: Visible) -> Value {
        let mut record = Map::new();
        record.insert("id".into(), json!(self.id));
        record.insert("name".into(), json!(self.name));
        record.insert("email".into(), json!(self.email));
        record.insert("title".into(), json!(self.title));
        if visible.pay {
            record.insert("salary".into(), json!(self.salary));
            record.insert("bonus".into(), json!(self.bonus));
        }
        if visible.private_notes {
            record.insert("private_notes".into(), json!(self.private_notes));
        }
        Value::Object(record)
    }
}

const FIXED: [(u32, &str, &str, u64, u64, &str); 5] = [
    (
        1,
        "alice",
        "Owner",
        250_000,
        50_000,
        "CANARY-ALICE-3f9c: equity plan draft",
    ),
    (2, "bob", "HR lead", 120_000, 10_000, ""),
    (3, "carol", "Engineer", 95_000, 5_000, ""),
    (5, "erin", "Engineer", 99_000, 6_000, ""),
    (6, "frank", "Designer", 88_000, 4_000, ""),
];

const FIRST_NAMES: [&str; 12] = [
    "grace", "henry", "ines", "jamal", "kira", "liam", "maya", "noah", "olga", "priya", "quinn",
    "ravi",
];
const LAST_NAMES: [&str; 8] = [
    "hopper", "lovelace", "turing", "okafor", "nakamura", "silva", "novak", "haddad",
];
const TITLES: [&str; 6] = [
    "Engineer",
    "Designer",
    "Analyst",
    "Accountant",
    "Support lead",
    "Product manager",
];

pub(crate) fn employees(extra: usize) -> Vec<Employee> {
    let mut all: Vec<Employee> = FIXED
        .iter()
        .map(|&(id, name, title, salary, bonus, notes)| Employee {
            id,
            name: name.to_string(),
            email: format!("{name}@acme.example"),
            title: title.to_string(),
            salary,
            bonus,
            private_notes: notes.to_string(),
        })
        .collect();
    for n in 0..extra {
        // Ids beyond u32 would need more than four billion generated records;
        // stop generating rather than wrap around onto real ids.
        let Ok(id) = u32::try_from(7 + n) else { break };
        let first = FIRST_NAMES[n % FIRST_NAMES.len()];
        let last = LAST_NAMES[(n / FIRST_NAMES.len()) % LAST_NAMES.len()];
        // Spread salaries so pages differ in more than the name.
        let salary = 60_000 + u64::from(id.wrapping_mul(7919) % 90) * 1_000;
        all.push(Employee {
            id,
            name: format!("{first} {last}"),
            email: format!("{first}.{last}{id}@acme.example"),
            title: TITLES[n % TITLES.len()].to_string(),
            salary,
            bonus: salary / 20,
            private_notes: String::new(),
        });
    }
    all
}

/// The department a title belongs to: the data browser's facet over employees, derived so
/// that generated employees bring new facet values, never new columns.
pub(crate) fn department(title: &str) -> &'static str {
    match title {
        "Owner" => "Executive",
        "HR lead" => "People",
        "Engineer" => "Engineering",
        "Designer" | "Product manager" => "Product",
        "Analyst" | "Accountant" => "Finance",
        _ => "Support",
    }
}

/// An expense claim, for the data browser's `expenses` table.
pub(crate) struct Expense {
    pub(crate) id: u32,
    pub(crate) employee: &'static str,
    pub(crate) category: &'static str,
    pub(crate) month: &'static str,
    pub(crate) amount: i64,
    pub(crate) status: &'static str,
}

/// A project, for the data browser's `projects` table.
pub(crate) struct Project {
    pub(crate) id: u32,
    pub(crate) name: String,
    pub(crate) department: &'static str,
    pub(crate) lead: &'static str,
    pub(crate) status: &'static str,
    pub(crate) budget: i64,
}

/// An audit-log entry, for the data browser's `audit_log` table.
pub(crate) struct AuditEntry {
    pub(crate) id: u32,
    pub(crate) at: String,
    pub(crate) actor: &'static str,
    pub(crate) action: &'static str,
    pub(crate) target: String,
}

/// The fixed employees' names: the tables below refer to them, not to generated employees,
/// so growing `extra_employees` grows the `employees` table only.
const STAFF: [&str; 5] = ["alice", "bob", "carol", "erin", "frank"];
const CATEGORIES: [&str; 5] = ["travel", "meals", "equipment", "training", "software"];
const MONTHS: [&str; 6] = [
    "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11",
];
const EXPENSE_STATUSES: [&str; 3] = ["approved", "pending", "rejected"];
const PROJECT_STATUSES: [&str; 3] = ["active", "paused", "done"];
const PROJECT_NAMES: [&str; 10] = [
    "ledger", "atlas", "beacon", "cobalt", "delta", "ember", "fjord", "garnet", "harbor", "iris",
];
const ACTIONS: [&str; 6] = [
    "login",
    "export",
    "update-salary",
    "approve-expense",
    "view-record",
    "change-role",
];

/// 120 claims. The strides are coprime with the list lengths so every (employee, category,
/// month) combination turns up and facet filters give pages of differing lengths.
pub(crate) fn expenses() -> Vec<Expense> {
    (0..120u32)
        .map(|n| {
            let i = n as usize;
            Expense {
                id: n + 1,
                employee: STAFF[i % STAFF.len()],
                category: CATEGORIES[(i * 3 + i / 7) % CATEGORIES.len()],
                month: MONTHS[(i / 4 + i) % MONTHS.len()],
                amount: 20 + i64::from(n * 7919 % 1_480),
                // Half approved, a third pending, the rest rejected.
                status: EXPENSE_STATUSES[match i % 6 {
                    0..=2 => 0,
                    3 | 4 => 1,
                    _ => 2,
                }],
            }
        })
        .collect()
}

/// 40 projects.
pub(crate) fn projects() -> Vec<Project> {
    const DEPARTMENTS: [&str; 4] = ["Engineering", "Product", "Finance", "People"];
    (0..40u32)
        .map(|n| {
            let i = n as usize;
            Project {
                id: n + 1,
                name: format!("{}-{}", PROJECT_NAMES[i % 10], i / 10 + 1),
                department: DEPARTMENTS[(i * 3) % DEPARTMENTS.len()],
                lead: STAFF[(i * 2 + 1) % STAFF.len()],
                status: PROJECT_STATUSES[(i / 3) % PROJECT_STATUSES.len()],
                budget: 10_000 + i64::from(n * 3571 % 90) * 1_000,
            }
        })
        .collect()
}

/// 150 entries, one every 7 hours from 2026-10-01.
pub(crate) fn audit_log() -> Vec<AuditEntry> {
    (0..150u32)
        .map(|n| {
            let i = n as usize;
            let hours = n * 7;
            let day = hours / 24;
            let date = if day < 31 {
                format!("2026-10-{:02}", day + 1)
            } else {
                format!("2026-11-{:02}", day - 30)
            };
            AuditEntry {
                id: n + 1,
                at: format!("{date}T{:02}:00:00Z", hours % 24),
                actor: STAFF[(i * 3) % STAFF.len()],
                action: ACTIONS[(i + i / 5) % ACTIONS.len()],
                target: format!("record-{}", 1 + n * 13 % 40),
            }
        })
        .collect()
}

/// The demo's OAuth2 clients (`POST /oauth/token`): (client id, secret, the account a client
/// credentials grant acts as). `ops-bot` is a service account with dave's access; `dashboard`
/// is the single-page app, a confidential client for the password grant only.
pub const OAUTH_CLIENTS: [(&str, &str, Option<&str>); 2] = [
    ("ops-bot", "ops-bot-secret-5c2e9a71d3", Some("dave")),
    ("dashboard", "dashboard-secret-8b4f06c2e1", None),
];
/// alice's TOTP seed (base32) when `DemoConfig::alice_totp` is on, and its variable.
pub const ALICE_TOTP_SEED: &str = "JBSWY3DPEHPK3PXP";
pub const ALICE_TOTP_VAR: &str = "DEMO_ALICE_TOTP_SEED";

/// Whether `code` is alice's TOTP code now or one step ago (a code typed at a step's end).
pub(crate) fn alice_totp_ok(code: &str) -> bool {
    let Some(seed) = lowpriv::session::totp::decode_seed(ALICE_TOTP_SEED) else {
        return false;
    };
    let now = lowpriv::session::totp::current_step();
    [now, now.saturating_sub(1)]
        .iter()
        .any(|step| lowpriv::session::totp::code_at_step(&seed, *step) == code)
}
