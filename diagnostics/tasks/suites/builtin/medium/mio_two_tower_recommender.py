import torch.nn as nn


class Tower(nn.Module):
    def __init__(self, num_ids):
        super().__init__()
        self.embedding = nn.Embedding(num_ids, 64)
        self.mlp = nn.Sequential(
            nn.Linear(64, 32),
            nn.ReLU(),
            nn.Linear(32, 32),
        )

    def forward(self, ids):
        return self.mlp(self.embedding(ids))


class TwoTowerRecommender(nn.Module):
    def __init__(self):
        super().__init__()
        self.user_tower = Tower(6040)
        self.movie_tower = Tower(3706)
        self.user_bias = nn.Embedding(6040, 1)
        self.movie_bias = nn.Embedding(3706, 1)

    def forward(self, user_ids, movie_ids):
        user_vec = self.user_tower(user_ids)
        movie_vec = self.movie_tower(movie_ids)
        score = (user_vec * movie_vec).sum(dim=1, keepdim=True)
        return score + self.user_bias(user_ids) + self.movie_bias(movie_ids)


def dl_model() -> nn.Module:
    return TwoTowerRecommender()
