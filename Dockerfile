# Container image of one Vigil Lambda function (the document classifier ships this way, with
# its model baked in; the other functions use the zip packages `sam build` makes).
# Build:  docker build --build-arg FUNCTION=produce-transactions -t vigil-produce .
# Built on Amazon Linux 2023 itself, so that the binary links against the glibc it runs on.

FROM public.ecr.aws/amazonlinux/amazonlinux:2023 AS build
RUN dnf install -y --setopt=install_weak_deps=False gcc gcc-c++ make cmake perl \
        openssl-devel cyrus-sasl-devel zlib-devel libzstd-devel pkgconf-pkg-config tar gzip \
    && dnf clean all
RUN curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
        | sh -s -- -y --profile minimal --default-toolchain 1.95.0
ENV PATH=/root/.cargo/bin:$PATH
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY test_data test_data
ARG FUNCTION=produce-transactions
RUN cargo build --release --locked --bin "${FUNCTION}" \
    && cp "target/release/${FUNCTION}" /bootstrap

FROM public.ecr.aws/lambda/provided:al2023
COPY --from=build /bootstrap ${LAMBDA_RUNTIME_DIR}/bootstrap
CMD ["bootstrap"]
