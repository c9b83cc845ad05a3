import json, sys, tempfile, shutil
from pathlib import Path
from bench import bridge_bench
from bench.env import BenchEnv
from bench.load import LoadWatch
env = BenchEnv("postgresql://postgres@127.0.0.1:5432/va_bench_bridge", "redis://127.0.0.1:6379/14", Path(tempfile.mkdtemp()))
# reuse run() pieces with a small main step
orig = bridge_bench._step
results = {}
def step(env_, web, url, org, count, seconds, warmup, secret):
    return orig(env_, web, url, org, int(sys.argv[1]), float(sys.argv[2]), warmup, secret)
bridge_bench._step = step
watch = LoadWatch(env.database_url, env.redis_url).start()
out = bridge_bench.run(env, smoke=True)
load = watch.stop()
main = out[0][1]["main"]
print(json.dumps({k: main[k] for k in ("calls","twilio_to_agent","agent_to_twilio","cpu_percent_of_a_core_per_call","rss_per_call_kib","errors","pongs_missing")}, indent=1))
print(json.dumps(load))
env.drop(); shutil.rmtree(env.workdir, ignore_errors=True)
