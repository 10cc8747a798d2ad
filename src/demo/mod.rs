//! The embedded demo Site ("Acme Payroll").
