"""Data only: the pretrained weights and their cards (`manifest.json`), installed as
`zoo._pretrained`. Read them through `zoo.pretrained`."""
