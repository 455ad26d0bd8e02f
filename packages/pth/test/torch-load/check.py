"""torch.load of the file write-sample.ts wrote: structure, dtypes, strides, shared storages, values."""
import collections
import math
import sys

import torch
o = torch.load(sys.argv[1] if len(sys.argv) > 1 else 'ours.pth')
sd = o['state_dict']
assert isinstance(sd, collections.OrderedDict) and sd._metadata == {'': {'version': 1}}, sd._metadata
print({k: (v.dtype, tuple(v.shape), v.stride(), v.storage_offset(), v.tolist()) for k, v in sd.items()})
assert sd['t'].stride() == (1, 4) and sd['t'].tolist() == [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]
assert sd['full'].storage().data_ptr() == sd['t'].storage().data_ptr() == sd['slice'].storage().data_ptr()
assert sd['h'].dtype == torch.float16 and sd['h'].tolist() == [0.0999755859375, -65504.0, 2**-24]
assert sd['n'].item() == 2**40 and sd['bf'].tolist() == [1.5, -3.0]
print({k: v for k, v in o.items() if k != 'state_dict'})
assert o['optimizer']['param_groups'][0]['betas'] == (0.9, 0.999)
assert o['misc'][0] == {1, 2} and o['misc'][1] == b'\x00\x80\xff' and o['misc'][2] == 2**64 and math.copysign(1, o['misc'][7]) == -1
print('torch.load OK', torch.__version__)
