//! `--check-with-wrk`: the same bids, GET and hello workloads measured by wrk (Debian's
//! `wrk`, one thread, the bench's connections), so that gavel-loadgen's figures can be
//! checked against a tool everyone knows.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::summary::median;

/// Bids as gavel-loadgen's `bids` makes them (`amounts.rs`): each on an auction picked at
/// random, the bidders' keys in turn; per auction, the next minimum learnt from the
/// answers (a `201`'s amount plus the increment, a `409`'s `min_amount`; the auction is
/// told by the `X-Request-Id` gavel echoes), each bid a uniform -0.4..0.6 increments
/// around it, and a shared bias (-2 after a `201`, +3 after a `409`, in thousandths of an
/// increment) holding the accepted share at 60 %. The same mix, so the two tools measure
/// the same work; 201 and 409 count as decided.
const BIDS_LUA: &str = r#"
local ids, nextmin = {}, {}
for id in string.gmatch(os.getenv("WRK_AUCTIONS"), "%d+") do ids[#ids + 1] = id; nextmin[id] = 10000 end
local keys = {}
for k in string.gmatch(os.getenv("WRK_KEYS"), "[^,]+") do keys[#keys + 1] = k end
local inc, bias = 500, 0
-- Global, not local: done() reads them from each thread with thread:get.
decided = 0
accepted = 0
local i, threads = 0, {}
function setup(thread) table.insert(threads, thread) end
local function units(text)
  local int, frac = string.match(text or "", "^(%d+)%.?(%d*)$")
  if not int then return nil end
  return tonumber(int) * 10000 + tonumber(string.sub(frac .. "0000", 1, 4))
end
function request()
  i = i + 1
  -- At random, as gavel-loadgen picks: auctions taken in turn never meet twice in one
  -- batch, and decided 16 to 25 % more bids a second than the same load at random.
  local id = ids[math.random(#ids)]
  local u = -0.4 + math.random()
  local amount = math.max(1, nextmin[id] + math.floor((u + bias / 1000) * inc + 0.5))
  local body = string.format('{"auction_id":%s,"amount":"%d.%04d"}', id, math.floor(amount / 10000), amount % 10000)
  return wrk.format("POST", "/api/bids",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. keys[(i % #keys) + 1],
     ["X-Request-Id"] = "a" .. id .. "-" .. i}, body)
end
function response(status, headers, body)
  local id = string.match(headers["x-request-id"] or headers["X-Request-Id"] or "", "^a(%d+)-")
  if status == 201 then
    decided = decided + 1
    accepted = accepted + 1
    bias = math.max(-500, bias - 2)
    local v = units(string.match(body, '"amount":"([%d%.]+)"'))
    if id and v and v + inc > nextmin[id] then nextmin[id] = v + inc end
  elseif status == 409 then
    decided = decided + 1
    local v = units(string.match(body, '"min_amount":"([%d%.]+)"'))
    if v then
      bias = math.min(20000, bias + 3)
      if id and v > nextmin[id] then nextmin[id] = v end
    end
  end
end
function done(summary)
  local total, ok = 0, 0
  for _, t in ipairs(threads) do total = total + t:get("decided"); ok = ok + t:get("accepted") end
  io.write(string.format("decided %d in %d us, accepted %d\n", total, summary.duration, ok))
end
"#;

/// Reads as gavel-loadgen's `get` makes them: each of an auction picked at random, the
/// bidders' keys in turn (one auction read with one key went 13 to 19 % faster).
const GET_LUA: &str = r#"
local ids, keys = {}, {}
for id in string.gmatch(os.getenv("WRK_AUCTIONS"), "%d+") do ids[#ids + 1] = id end
for k in string.gmatch(os.getenv("WRK_KEYS"), "[^,]+") do keys[#keys + 1] = k end
local i = 0
function request()
  i = i + 1
  return wrk.format("GET", "/api/auctions/" .. ids[math.random(#ids)],
    {["Authorization"] = "Bearer " .. keys[(i % #keys) + 1]})
end
"#;

/// What the wrk runs need.
pub struct Setup<'a> {
    pub gavel: &'a str,
    pub hello: &'a str,
    pub token: &'a str,
    pub secs: u64,
    pub conns: u32,
    pub work: &'a Path,
    pub database_url: &'a str,
}

/// wrk, set up to run its three workloads one at a time, each beside gavel-loadgen's run of
/// the same workload (alternated, so that both tools meet the machine in the same state).
pub struct Wrk<'a> {
    s: Setup<'a>,
    /// The auctions and the bidders' API keys, comma-separated, as both scripts read them
    /// from `WRK_AUCTIONS` and `WRK_KEYS`.
    fixture: [(&'static str, String); 2],
    /// The `bids` script.
    bids_script: std::path::PathBuf,
    /// The `get` script.
    get_script: std::path::PathBuf,
    /// Bids decided a second, each round.
    bids: Vec<f64>,
    /// gavel-hello's answers a second, each round.
    hellos: Vec<f64>,
    /// Reads of auctions a second, each round.
    gets: Vec<f64>,
}

impl<'a> Wrk<'a> {
    /// Creates the 100 auctions and 64 bidders gavel-loadgen's `bids` sets up, and the
    /// scripts.
    pub fn prepare(s: Setup<'a>) -> Result<Self, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let (keys, ids) = rt.block_on(async {
            let ids = crate::streams::auctions(s.gavel, s.token, 100).await?;
            let url = format!("{}/api/bidders", s.gavel);
            let client = reqwest::Client::new();
            let mut keys = Vec::with_capacity(64);
            for i in 0..64 {
                let v = crate::streams::post_json(
                    &client,
                    &url,
                    s.token,
                    &json!({"name": format!("wrk {i}")}),
                )
                .await?;
                keys.push(v["api_key"].as_str().ok_or("no bidder key")?.to_string());
            }
            Ok::<_, String>((keys, ids))
        })?;
        let bids_script = s.work.join("bids.lua");
        std::fs::write(&bids_script, BIDS_LUA).map_err(|e| e.to_string())?;
        let get_script = s.work.join("get.lua");
        std::fs::write(&get_script, GET_LUA).map_err(|e| e.to_string())?;
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        Ok(Self {
            s,
            fixture: [
                ("WRK_AUCTIONS", ids.join(",")),
                ("WRK_KEYS", keys.join(",")),
            ],
            bids_script,
            get_script,
            bids: Vec::new(),
            hellos: Vec::new(),
            gets: Vec::new(),
        })
    }

    /// A round of bids (decided a second).
    pub fn bids(&mut self) -> Result<(), String> {
        let out = self.scripted("bids", &self.bids_script)?;
        let rate = decided(&out).ok_or_else(|| format!("wrk printed no decided count: {out}"))?;
        self.bids.push(rate);
        Ok(())
    }

    /// A round of reads of auctions (a second).
    pub fn get(&mut self) -> Result<(), String> {
        let out = self.scripted("get", &self.get_script)?;
        self.gets.push(requests_per_sec(&out).unwrap_or(f64::NAN));
        Ok(())
    }

    /// A round of gavel-hello (answers a second).
    pub fn hello(&mut self) -> Result<(), String> {
        let out = self.run("hello", &[&format!("{}/hello", self.s.hello)], &[])?;
        self.hellos.push(requests_per_sec(&out).unwrap_or(f64::NAN));
        Ok(())
    }

    /// The rates as JSON (`decided_per_second` each: the median of the rounds, which are
    /// kept too).
    pub fn figures(&self) -> Value {
        json!({
            "label": "wrk",
            "bids": {"decided_per_second": median(self.bids.clone()), "rounds": self.bids},
            "get": {"decided_per_second": median(self.gets.clone()), "rounds": self.gets},
            "hello": {"decided_per_second": median(self.hellos.clone()), "rounds": self.hellos},
        })
    }

    /// wrk against gavel with one of the scripts (which read the fixture from the
    /// environment).
    fn scripted(&self, name: &str, script: &Path) -> Result<String, String> {
        let args = ["-s", &script.to_string_lossy(), self.s.gavel];
        self.run(name, &args, &self.fixture)
    }

    /// Settles the machine, then runs wrk: a second of warm-up (gavel-loadgen warms up
    /// too), then the measured run.
    fn run(&self, name: &str, args: &[&str], env: &[(&str, String)]) -> Result<String, String> {
        crate::procs::settle(self.s.database_url);
        eprintln!("bench: run: wrk {name}");
        wrk(&self.s, 1, args, env)?;
        wrk(&self.s, self.s.secs, args, env)
    }
}

fn wrk(s: &Setup<'_>, secs: u64, args: &[&str], env: &[(&str, String)]) -> Result<String, String> {
    let out = Command::new("wrk")
        .args(["-t1", "-c", &s.conns.to_string(), "-d", &format!("{secs}s")])
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .map_err(|e| {
            format!("wrk (install it: apt-get install wrk, or scripts/need.sh wrk): {e}")
        })?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        return Err(format!(
            "wrk failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(text)
}

/// `Requests/sec:` of wrk's report.
fn requests_per_sec(out: &str) -> Option<f64> {
    out.lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()
}

/// Decided bids a second, from the script's `done` line.
fn decided(out: &str) -> Option<f64> {
    let line = out.lines().find(|l| l.starts_with("decided "))?;
    let mut parts = line.split_whitespace();
    let n: f64 = parts.nth(1)?.parse().ok()?;
    let us: f64 = parts.nth(1)?.parse().ok()?;
    (us > 0.0).then(|| n / (us / 1e6))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_what_wrk_prints() {
        let out = "Running 10s test\n  Latency 1ms\nRequests/sec:  41234.56\nTransfer/sec: 5MB\ndecided 120000 in 10000000 us\n";
        assert_eq!(super::requests_per_sec(out), Some(41234.56));
        assert_eq!(super::decided(out), Some(12000.0));
    }
}
