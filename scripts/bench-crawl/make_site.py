#!/usr/bin/env python3
"""Writes the bench-crawl Site: N HTML pages of ~4 KB with a people table, their N JSON twins,
an index and an about page (2N+2 URLs), and the URL list wrk walks.

    make_site.py N ROOT URLS_FILE

Page i links to pages i+1, 2i+1 and 2i+2 (a chain for wget-style walkers and a binary tree,
so a breadth-first crawler reaches all N within ~log2(N) rounds) and to its twin
/people/<i>.json. Deterministic: the same N gives the same bytes.
"""
import json
import os
import sys

FIRST = ["Ann", "Bob", "Cho", "Dev", "Eva", "Fay", "Gus", "Hal", "Ida", "Jon", "Kim", "Lea"]
LAST = ["Ng", "Okafor", "Petrov", "Quinn", "Rossi", "Sato", "Tan", "Ueda", "Vega", "Wolf"]
ROWS = 50


def people(i):
    out = []
    for r in range(ROWS):
        k = i * ROWS + r
        first, last = FIRST[k % len(FIRST)], LAST[(k // len(FIRST)) % len(LAST)]
        out.append({
            "name": f"{first} {last}",
            "email": f"{first.lower()}.{last.lower()}{k}@example.test",
            "salary": 40000 + (k * 7919) % 90000,
        })
    return out


def page(i, n, rows):
    links = [f"/page/{j}.html" for j in (i + 1, 2 * i + 1, 2 * i + 2) if j < n]
    nav = " ".join(f'<a href="{href}">{href}</a>' for href in dict.fromkeys(links))
    body = "".join(
        f"<tr><td>{p['name']}</td><td>{p['email']}</td><td>{p['salary']}</td></tr>\n"
        for p in rows
    )
    return (
        f"<!doctype html>\n<html><head><meta charset=utf-8><title>People {i}</title></head>\n"
        f"<body><h1>People, page {i}</h1>\n<nav>{nav} "
        f'<a href="/people/{i}.json">as JSON</a></nav>\n'
        "<table><thead><tr><th>Name</th><th>Email</th><th>Salary</th></tr></thead><tbody>\n"
        f"{body}</tbody></table></body></html>\n"
    )


def main():
    n, root, urls_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    os.makedirs(os.path.join(root, "page"), exist_ok=True)
    os.makedirs(os.path.join(root, "people"), exist_ok=True)
    urls = ["/", "/about.html"]
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write(
            "<!doctype html>\n<html><head><title>People</title></head><body><h1>People</h1>\n"
            '<a href="/page/0.html">first page</a> <a href="/about.html">about</a></body></html>\n'
        )
    with open(os.path.join(root, "about.html"), "w") as f:
        f.write(
            '<!doctype html>\n<html><head><title>About</title></head><body><p>A static bench'
            ' Site.</p><a href="/">home</a></body></html>\n'
        )
    for i in range(n):
        rows = people(i)
        with open(os.path.join(root, "page", f"{i}.html"), "w") as f:
            f.write(page(i, n, rows))
        with open(os.path.join(root, "people", f"{i}.json"), "w") as f:
            json.dump({"page": i, "people": rows}, f)
        urls += [f"/page/{i}.html", f"/people/{i}.json"]
    with open(urls_file, "w") as f:
        f.write("\n".join(urls) + "\n")


if __name__ == "__main__":
    main()
