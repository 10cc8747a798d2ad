//! The Site's fixed data: the public demo credentials (`USERS`), the accounts with their
//! roles, and the employee records (plus optional generated ones for load tests).
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
