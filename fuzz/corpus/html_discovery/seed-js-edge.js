// a comment with "/not/a/path"
const re = /\/api\/[a-z]+/g; const x = a / b / c;
fetch(`/api/employees/${id}/files?kind=${k}`); fetch('/api/team/' + team + '/metrics');
const s = "/static/\u00e9t\u00e9.js"; let t = `${`nested ${"/deep"}`}/tail`;
/* unterminated
