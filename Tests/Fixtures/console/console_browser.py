#!/usr/bin/env python3
"""Drives heraldd's web console in headless Chromium (Selenium + chromedriver) and checks what it shows.

Usage: console_browser.py BASE_URL TOKEN_FILE STATS_JSON USER

  BASE_URL    http://127.0.0.1:PORT of a running heraldd
  TOKEN_FILE  the API token (signs in, and triggers a send through the API for the live tail)
  STATS_JSON  `herald stats CAMPAIGN --format json` output: the funnel the campaign page must show
  USER        a user id with sends, whose page is opened

Exit 0 when every check holds; otherwise each failed check is printed and the exit status is 1.
Exit 77 (printed reason) when Chromium or chromedriver is missing.
"""
import json
import shutil
import sys
import time
import urllib.request

CHECKS_FAILED = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        CHECKS_FAILED.append(what)


def main():
    base, token_file, stats_file, user = sys.argv[1:5]
    token = open(token_file).read().strip()
    stats = json.loads(open(stats_file).read().strip().splitlines()[0])
    campaign = stats["campaign"]

    def api(path, body):
        request = urllib.request.Request(
            base + path, method="POST", data=json.dumps(body).encode(),
            headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(request, timeout=20).read())

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not chromium or not shutil.os.path.exists(driver_path):
        print("skip: chromium or chromedriver is not installed (scripts/install-deps.sh --test)")
        return 77
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]:
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(driver_path), options=options)
    browser.set_page_load_timeout(30)
    wait = WebDriverWait(browser, 20)
    try:
        # Every page without a session leads to the sign-in form.
        browser.get(base + "/console/campaigns")
        check(browser.current_url.endswith("/console/sign-in"), "a page without a session redirects to sign-in")

        # A wrong token is refused; the right one signs in.
        browser.find_element(By.ID, "token").send_keys("wrong-token")
        browser.find_element(By.ID, "sign-in").click()
        check("Wrong token" in browser.find_element(By.ID, "error").text, "a wrong token is refused")
        browser.find_element(By.ID, "token").send_keys(token)
        browser.find_element(By.ID, "sign-in").click()
        wait.until(lambda b: b.current_url.endswith("/console/campaigns"))
        check(True, "signed in")
        cookie = browser.get_cookie("herald_console")
        check(cookie is not None and cookie.get("httpOnly") and cookie.get("sameSite") == "Strict"
              and cookie.get("path") == "/console", "the session cookie is HttpOnly, SameSite=Strict, Path=/console")
        check(browser.execute_script("return document.cookie").find("herald_console") < 0,
              "scripts cannot read the session cookie")

        # Campaigns and journeys.
        check(len(browser.find_elements(By.CSS_SELECTOR, "a[href='/console/campaigns/%s']" % campaign)) == 1,
              "the campaign list links to %s" % campaign)

        # The campaign's funnel: the numbers of `herald stats`.
        browser.get(base + "/console/campaigns/" + campaign)
        for stage in ["audience", "holdout", "suppressed", "pending", "sent", "delivered", "failed", "dead",
                      "bounced", "expired", "cancelled", "opened", "clicked", "converted"]:
            shown = browser.find_element(By.ID, "stage-" + stage).text
            expected = stats[stage]
            check(shown == ("-" if expected is None else str(expected)),
                  "funnel %s: page %s, herald stats %s" % (stage, shown, expected))
        check(len(browser.find_elements(By.CSS_SELECTOR, "svg[aria-label^='funnel']")) == 1, "the funnel is drawn")
        check("No rollout" in browser.find_element(By.ID, "rollout").text or "Halted" in browser.page_source
              or "Running" in browser.page_source, "the rollout section is shown")

        # Journey, user, queue.
        browser.get(base + "/console/campaigns")
        journeys = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a[href^='/console/journeys/']")]
        for j in journeys:
            browser.get(j)
            check(len(browser.find_elements(By.CSS_SELECTOR, "svg[aria-label^='graph of journey']")) == 1,
                  "journey page %s draws its graph" % j)
        browser.find_element(By.NAME, "id").send_keys(user)
        browser.find_element(By.XPATH, "//button[text()='Find user']").click()
        wait.until(lambda b: "/console/user" in b.current_url)
        check("User " + user in browser.find_element(By.TAG_NAME, "h1").text, "the user page opens")
        check(len(browser.find_elements(By.CSS_SELECTOR, "svg[aria-label^='activity'] rect")) == 168, "the 7×24 heatmap")
        unmasked = [td.text for td in browser.find_elements(By.TAG_NAME, "td") if "@" in td.text and "***" not in td.text]
        check(not unmasked, "addresses are masked on the user page %s" % unmasked)
        browser.get(base + "/console/queue")
        check(browser.find_element(By.ID, "queue-scheduled").text.isdigit(), "the queue page counts rows")

        # The live tail: a send made now appears without reloading.
        browser.get(base + "/console/tail")
        # The send must come after the event stream connected (its cursor starts at connection): the page marks
        # the table once the stream is open.
        WebDriverWait(browser, 30).until(
            lambda b: b.find_element(By.CSS_SELECTOR, "#tail tbody").get_attribute("data-live") == "open")
        occurrence = "tail-%d" % int(time.time())
        reply = api("/v1/campaigns/%s/trigger" % campaign, {"occurrence": occurrence, "users": [user]})
        check(reply.get("sends") == 1, "a new send was planned for the tail (%s)" % reply)

        def tail_has_send(b):
            for row in b.find_elements(By.CSS_SELECTOR, "#tail tbody tr"):
                cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
                if len(cells) == 8 and cells[1] == campaign and cells[2] == user and cells[5] == "sent":
                    return cells
            return False
        try:
            cells = WebDriverWait(browser, 30).until(tail_has_send)
            check(True, "the new send appeared in the live tail")
            check("***" in cells[4] or cells[4] == "", "the tail masks the address (%s)" % cells[4])
        except Exception:
            check(False, "the new send appeared in the live tail")

        # Pause a campaign whose send is planned but not yet due: the daemon hands the due row back unsent.
        api("/v1/track", {"userId": user, "event": "nudge_me"})
        browser.get(base + "/console/campaigns/nudge")
        browser.find_element(By.CSS_SELECTOR, "#control input[name=reason]").send_keys("browser test")
        browser.find_element(By.XPATH, "//button[text()='Pause']").click()
        wait.until(lambda b: "paused" in b.find_element(By.ID, "control").text)
        check("browser test" in browser.find_element(By.ID, "control").text, "the pause is shown with its reason")
        browser.get(base + "/console/tail")

        def held_back(b):
            rows = [[td.text for td in row.find_elements(By.TAG_NAME, "td")]
                    for row in b.find_elements(By.CSS_SELECTOR, "#tail tbody tr")]
            mine = [c for c in rows if len(c) == 8 and c[1] == "nudge"]
            if any(c[5] == "sent" for c in mine):
                return "sent"
            return "held" if any(c[5] == "scheduled" and "campaign_paused" in c[7] for c in mine) else False
        try:
            outcome = WebDriverWait(browser, 60).until(held_back)
            check(outcome == "held", "the paused campaign's due row was handed back unsent (%s)" % outcome)
        except Exception:
            check(False, "the paused campaign's due row was handed back unsent (nothing seen)")
        browser.get(base + "/console/campaigns/nudge")
        browser.find_element(By.XPATH, "//button[text()='Resume']").click()
        wait.until(lambda b: "Running" in b.find_element(By.ID, "control").text)
        check(True, "resumed")
        # Halting and resuming the rollout.
        browser.find_element(By.XPATH, "//button[text()='Halt rollout']").click()
        wait.until(lambda b: "rollout halted" in b.find_element(By.ID, "halt").text)
        browser.find_element(By.XPATH, "//button[text()='Resume rollout']").click()
        wait.until(lambda b: "Halt rollout" in b.find_element(By.ID, "halt").text)
        check(True, "the rollout was halted and resumed")

        # Sign out ends the session.
        browser.find_element(By.XPATH, "//button[text()='Sign out']").click()
        browser.get(base + "/console/queue")
        check(browser.current_url.endswith("/console/sign-in"), "after sign-out pages need a session again")
    finally:
        browser.quit()
    return 1 if CHECKS_FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
