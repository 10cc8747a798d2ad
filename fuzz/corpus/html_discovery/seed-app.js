/* Acme Payroll front-end bundle v1.4.0 */
"use strict";
const config = { db: { user: "payroll", password: "demo-db-d74bb9f6f3933f10b85a6fc8d38d6c41" } };
const JSON_TYPE = "application/json";
const FISCAL_YEAR_START = "2026-01-01";

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: JSON_TYPE }, credentials: "same-origin" });
  if (!response.ok) throw new Error("request failed: " + response.status);
  return response.json();
}

async function loadMe() {
  const response = await fetch("/api/me", { headers: { Accept: JSON_TYPE } });
  return response.ok ? response.json() : null;
}

async function loadEmployee(id) {
  const response = await fetch(`/api/employees/${id}`);
  return response.ok ? response.json() : null;
}

async function loadMetrics() {
  const response = await fetch('/api/team/metrics');
  return response.ok ? response.json() : { headcount: 0, open_roles: 0 };
}

document.addEventListener("DOMContentLoaded", async () => {
  const me = await loadMe();
  if (!me) return;
  const badge = document.querySelector("nav span");
  if (badge) badge.title = me.email + " since " + FISCAL_YEAR_START;
  window.acme = { me, getJson, loadEmployee, loadMetrics };
});
