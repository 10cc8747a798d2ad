//! The Site's fixed data: accounts with their roles, and the employee records
//! (plus optional generated ones for load tests).

use serde_json::{Map, Value, json};

use super::{DemoUser, USERS};

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
