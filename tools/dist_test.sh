#!/usr/bin/env bash
# Distributed testing on NGPUS processes per node with torchrun.
#   bash tools/dist_test.sh CONFIG CHECKPOINT NGPUS [test.py args]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# dan_mm.engine.torchrun is torchrun that prints a user error of any rank as
# one "error:" line (exit status 1) instead of a ChildFailedError traceback.

CONFIG=$1
CHECKPOINT=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
python -m dan_mm.engine.torchrun \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    $(dirname "$0")/test.py \
    $CONFIG \
    $CHECKPOINT \
    --launcher pytorch \
    "${@:4}"
