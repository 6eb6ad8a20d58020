//! A headless Chromium driven through chromedriver (WebDriver) with
//! fantoccini, and a real HTTP server for it to browse.
//!
//! chromedriver and Chromium come from Debian (`chromium`,
//! `chromium-driver`); `examples/scripts/ensure-browser.sh` installs them.
//! `CHROMEDRIVER` and `CHROME_BIN` override where they are looked for.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// How long any one wait for the browser may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Serves `router` on a free loopback port; returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    format!("http://{addr}")
}

/// A running chromedriver with one Chromium session; chromedriver (and the
/// browser it started) is killed when this is dropped, even if the test panics.
pub struct Browser {
    pub client: Client,
    driver: DriverProcess,
    _profile: tempfile::TempDir,
}

/// The chromedriver process, killed with its whole process group on drop.
struct DriverProcess(Child);

impl Drop for DriverProcess {
    fn drop(&mut self) {
        // chromedriver was started as the leader of its own process group, so
        // this also ends the Chromium processes it launched.
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMEDRIVER") {
        return PathBuf::from(path);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromedriver"))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "chromedriver was not found on PATH: the UI browser tests need Debian's `chromium` and \
             `chromium-driver` packages. Install them with `bash examples/scripts/ensure-browser.sh` \
             (or set CHROMEDRIVER to a chromedriver binary)."
        )
    })
}

fn chrome_binary() -> Option<String> {
    if let Ok(path) = std::env::var("CHROME_BIN") {
        return Some(path);
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|path| Path::new(path).is_file())
        .map(str::to_owned)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium whose time zone is
    /// `time_zone` (through `TZ`, which Chromium inherits), at desktop size.
    pub async fn start(time_zone: &str) -> Browser {
        Browser::start_with(time_zone, true).await
    }

    /// [`Browser::start`] with the pages' JavaScript switched off, as some
    /// people browse.
    pub async fn start_without_javascript(time_zone: &str) -> Browser {
        Browser::start_with(time_zone, false).await
    }

    async fn start_with(time_zone: &str, javascript: bool) -> Browser {
        let driver_path = chromedriver();
        let port = free_port();
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .env("TZ", time_zone)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "could not start {}: {e}; run `bash examples/scripts/ensure-browser.sh`",
                    driver_path.display()
                )
            });
        let driver = DriverProcess(child);

        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + PATIENCE;
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start listening on {addr} within {PATIENCE:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let mut options = json!({
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--window-size=1280,1000",
                "--lang=en-US",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        });
        if let Some(binary) = chrome_binary() {
            options["binary"] = json!(binary);
        }
        if !javascript {
            options["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": options,
            // Confirmation dialogs (the dashboard's "Cancel?") are accepted.
            "unhandledPromptBehavior": "accept",
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://{addr}"))
            .await
            .unwrap_or_else(|e| {
                panic!("could not open a Chromium session through chromedriver: {e}")
            });
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Ends the browser session, then chromedriver.
    pub async fn close(self) {
        let Browser { client, driver, .. } = self;
        let _ = client.close().await;
        drop(driver);
    }
}

/// Waits until `css` matches an element and returns it.
pub async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element matched {css:?} within {PATIENCE:?}: {e}"))
}

/// The visible text of the element `css` matches, once it exists.
pub async fn text_of(client: &Client, css: &str) -> String {
    wait_for(client, css).await.text().await.unwrap()
}

/// Where screenshots go: `target/ui-screenshots/` (under `CARGO_TARGET_DIR`
/// when set, else the target directory this test binary was built in).
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            // target/<profile>/deps/<test binary>
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Saves a screenshot of the whole page as `target/ui-screenshots/{name}.png`,
/// growing the window to the page's height for the shot.
pub async fn screenshot(client: &Client, name: &str) {
    let (width, height) = client.get_window_size().await.unwrap();
    // How much taller the page is than the viewport (the window also has
    // some height of its own besides the viewport).
    let overflow = client
        .execute(
            "window.scrollTo(0, 0); \
             return Math.max(0, document.documentElement.scrollHeight - window.innerHeight);",
            vec![],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(0);
    let shot_height = (height + overflow).min(4000);
    let width = u32::try_from(width).unwrap();
    if shot_height != height {
        client
            .set_window_size(width, u32::try_from(shot_height).unwrap())
            .await
            .unwrap();
    }
    let png = client.screenshot().await.unwrap();
    if shot_height != height {
        client
            .set_window_size(width, u32::try_from(height).unwrap())
            .await
            .unwrap();
    }
    assert!(png.starts_with(b"\x89PNG"), "a screenshot is a PNG");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

/// Whether the page fits the window's width (no sideways scrolling).
pub async fn fits_width(client: &Client) -> bool {
    client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap_or(false)
}

/// Waits until the element `css` matches shows exactly `expected`.
pub async fn wait_for_text(client: &Client, css: &str, expected: &str) {
    let deadline = Instant::now() + PATIENCE;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(element) = client.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if text == expected {
                return;
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{css:?} showed {last:?}, not {expected:?}, within {PATIENCE:?}");
}

/// The texts of every element `css` matches, in page order.
pub async fn texts_of(client: &Client, css: &str) -> Vec<String> {
    let mut texts = Vec::new();
    for element in client.find_all(Locator::Css(css)).await.unwrap() {
        texts.push(element.text().await.unwrap());
    }
    texts
}

/// Replaces the content of the input `css` matches with `text`.
pub async fn type_into(client: &Client, css: &str, text: &str) {
    let element = wait_for(client, css).await;
    element.clear().await.unwrap();
    element.send_keys(text).await.unwrap();
}

/// Sets the value of the input `css` matches as a person picking it would
/// (time and date pickers take no typing that works in every locale).
pub async fn set_value(client: &Client, css: &str, value: &str) {
    wait_for(client, css).await;
    client
        .execute(
            "var e = document.querySelector(arguments[0]); e.value = arguments[1]; \
             e.dispatchEvent(new Event('input', {bubbles: true})); \
             e.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(css), json!(value)],
        )
        .await
        .unwrap();
}

/// The current value of the input `css` matches, once it exists.
pub async fn value_of(client: &Client, css: &str) -> Option<String> {
    wait_for(client, css).await.prop("value").await.unwrap()
}

/// How many elements `css` matches now.
pub async fn count(client: &Client, css: &str) -> usize {
    client.find_all(Locator::Css(css)).await.unwrap().len()
}

/// Whether the element `css` matches is shown (exists and is not hidden).
pub async fn displayed(client: &Client, css: &str) -> bool {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

/// Clicks the element `css` matches.
pub async fn click(client: &Client, css: &str) {
    wait_for(client, css).await.click().await.unwrap();
}

/// Runs `scenario` against `browser`, then closes the browser whatever
/// happened, and only then lets a failure in the scenario fail the test.
pub async fn run<F, Fut>(browser: Browser, scenario: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let outcome = tokio::spawn(scenario(browser.client.clone())).await;
    browser.close().await;
    match outcome {
        Ok(()) => {}
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => panic!("the browser scenario did not finish: {error}"),
    }
}
