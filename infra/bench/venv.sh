# The benchmark venv (XGBoost and LightGBM from PyPI), made or updated when its pins change.
# Sourced by the fraud benchmarks after env.sh; sets bench_venv.
bench_venv="$VIGIL_CACHE/venv-bench"
packages=(numpy==2.3.5 xgboost-cpu==3.2.0 lightgbm==4.7.0)
if [ "$(cat "$bench_venv/.vigil-requirements" 2>/dev/null)" != "${packages[*]}" ]; then
  step "Benchmark venv ($bench_venv): ${packages[*]}"
  python3 -m venv "$bench_venv"
  "$bench_venv/bin/pip" install -q --disable-pip-version-check "${packages[@]}"
  echo "${packages[*]}" > "$bench_venv/.vigil-requirements"
fi
