# zslbench in a container: CPU image by default, CUDA image with a build argument.
# Needs BuildKit (the default builder of Docker 23+; DOCKER_BUILDKIT=1 with Docker 18.09-22.x).
#
#   docker build -t zslbench .
#   docker run --rm -v "$PWD/data:/data" -v "$PWD/results:/results" zslbench run --all --profile quick
#
# Three settings (docs/installation.md#docker):
#   internet:   the defaults (python:3.11 slim from Docker Hub, torch from the PyTorch CPU index);
#   TLS proxy:  --secret id=ca_bundle,src=/path/to/ca-bundle.crt (the CA bundle pip trusts during
#               the build; it is mounted for the install steps only and is in no layer);
#   offline or mirrored: --build-arg BASE_IMAGE=<a local image with python3 and python3-venv>,
#               wheels in ./wheelhouse (pip looks there first), --build-arg PIP_NO_INDEX=1 or
#               --build-arg PIP_INDEX_URL=<mirror> (and TORCH_INDEX_URL=<mirror> for torch).
#
# GPU variant: a CUDA build of torch from another index,
#   docker build --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 -t zslbench:gpu .
#   docker run --rm --gpus all -v "$PWD/results:/results" zslbench:gpu run --all --device cuda
#
# The install steps are the README's (its <!-- ci:test --> block) word for word; only the index
# that pip takes torch from is set around the torch step (tests/test_docker.py checks both).
ARG BASE_IMAGE=python:3.11.11-slim-bookworm

# The repository as .dockerignore leaves it, without what is in the wheelhouse but its README
# (the wheels are mounted for the install steps, never copied into the image).
FROM ${BASE_IMAGE} AS source
COPY . /src
RUN find /src/wheelhouse -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +

FROM ${BASE_IMAGE}

# Where pip takes torch from: the CPU-only wheels unless told otherwise.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# pip settings for the build only (build arguments are not kept in the image's environment):
# the wheelhouse first, the system CA bundle (replaced by the ca_bundle secret when one is given),
# and, unset unless given, a mirror or no index at all.
ARG PIP_FIND_LINKS=/tmp/wheelhouse
ARG PIP_CERT=/etc/ssl/certs/ca-certificates.crt
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
ARG PIP_NO_INDEX

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

# torch first, in its own layer (it is by far the largest and changes least): a change to the
# code rebuilds only the layers after it.
RUN --mount=type=bind,source=wheelhouse,target=/tmp/wheelhouse \
    --mount=type=secret,id=ca_bundle,target=/etc/ssl/certs/ca-certificates.crt \
    python3 -m venv .venv \
    && PIP_INDEX_URL="${TORCH_INDEX_URL}" .venv/bin/pip install torch==2.13.0

COPY --from=source /src/ ./
RUN --mount=type=bind,source=wheelhouse,target=/tmp/wheelhouse \
    --mount=type=secret,id=ca_bundle,target=/etc/ssl/certs/ca-certificates.crt \
    .venv/bin/pip install -e '.[test]'

# zsl (uid 1000), created above.
USER 1000:1000
VOLUME ["/data", "/results"]
ENTRYPOINT ["zslbench"]
CMD ["--help"]
