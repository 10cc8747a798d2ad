"""The scrapy side of scripts/bench-crawl.sh: follow every link of every HTML page.

    python spider.py BASE_URL COUNT_FILE

16 requests in flight, no delays, no robots.txt, no logging; writes the number of responses
received to COUNT_FILE when the crawl ends.
"""
import sys

import scrapy
from scrapy.crawler import CrawlerProcess


class Bench(scrapy.Spider):
    name = "bench"

    def __init__(self, base, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [base + "/"]

    def parse(self, response):
        if not response.headers.get("Content-Type", b"").startswith(b"text/html"):
            return
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, self.parse)


def main():
    base, count_file = sys.argv[1], sys.argv[2]
    process = CrawlerProcess(
        settings={
            "CONCURRENT_REQUESTS": 16,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
            "DOWNLOAD_DELAY": 0,
            "RANDOMIZE_DOWNLOAD_DELAY": False,
            "AUTOTHROTTLE_ENABLED": False,
            "ROBOTSTXT_OBEY": False,
            "LOG_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "DEPTH_LIMIT": 0,
        }
    )
    crawler = process.create_crawler(Bench)
    process.crawl(crawler, base=base)
    process.start()
    with open(count_file, "w") as f:
        f.write(f"{crawler.stats.get_value('response_received_count', 0)}\n")


if __name__ == "__main__":
    main()
