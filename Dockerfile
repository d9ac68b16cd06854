# zslbench in a container: CPU image by default, CUDA image with two build arguments.
#
#   docker build -t zslbench .
#   docker run --rm -v "$PWD/data:/data" -v "$PWD/results:/results" zslbench run --all --profile quick
#
# GPU variant (README, "Reproduce with Docker"): a CUDA build of torch from another index,
#   docker build --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 -t zslbench:gpu .
#   docker run --rm --gpus all -v "$PWD/results:/results" zslbench:gpu run --all --device cuda
#
# The install steps are the README's (its <!-- ci:test --> block) word for word; only the index
# that pip takes torch from is set around the torch step (tests/test_docker.py checks both).
ARG BASE_IMAGE=python:3.11.11-slim-bookworm
FROM ${BASE_IMAGE}

# Where pip takes torch from: the CPU-only wheels unless told otherwise.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/zslbench/.venv/bin:${PATH} \
    ZSLBENCH_DATA=/data \
    ZSLBENCH_RESULTS=/results \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/tmp/matplotlib \
    PYTEST_ADDOPTS="-p no:cacheprovider" \
    HYPOTHESIS_STORAGE_DIRECTORY=/tmp/hypothesis

RUN useradd --create-home --uid 1000 --user-group --shell /bin/bash zsl \
    && mkdir -p /data /results \
    && chown zsl:zsl /data /results

WORKDIR /opt/zslbench

# torch first, in its own layer (it is by far the largest and changes least).
RUN python3 -m venv .venv \
    && PIP_INDEX_URL="${TORCH_INDEX_URL}" .venv/bin/pip install torch==2.13.0

# The repository as .dockerignore leaves it (package, tests, README, Dockerfile, workflows).
COPY . .
RUN .venv/bin/pip install -e '.[test]'

# zsl (uid 1000), created above.
USER 1000:1000
VOLUME ["/data", "/results"]
ENTRYPOINT ["zslbench"]
CMD ["--help"]
